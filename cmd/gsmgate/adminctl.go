package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gsmgate/gsmgate/control"
)

// The user and token commands over the daemon's control socket: the
// daemon answers each op with the same localOps the commands use on a
// stopped daemon's database, so the two paths cannot drift apart.

// The control ops.
const (
	opUserAdd     = "user.add"
	opUserList    = "user.list"
	opUserPasswd  = "user.passwd"
	opTokenCreate = "token.create"
	opTokenList   = "token.list"
	opTokenRevoke = "token.revoke"
)

// handleAdminOps registers the user and token ops on the daemon's
// control server.
func handleAdminOps(srv *control.Server, ops adminOps) {
	reg := func(op string, fn func(ctx context.Context, raw json.RawMessage) (any, error)) {
		srv.Handle(op, func(ctx context.Context, raw json.RawMessage) (control.Reply, error) {
			out, err := fn(ctx, raw)
			if err != nil {
				// The client prints the message: say it in words.
				return control.Reply{}, errors.New(sentence(err))
			}
			return control.Reply{Data: out}, nil
		})
	}
	reg(opUserAdd, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a addUserArgs
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return ops.addUser(ctx, a)
	})
	reg(opUserList, func(ctx context.Context, _ json.RawMessage) (any, error) { return ops.users(ctx) })
	reg(opUserPasswd, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a passwdArgs
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return ops.passwd(ctx, a)
	})
	reg(opTokenCreate, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a createTokenArgs
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return ops.createToken(ctx, a)
	})
	reg(opTokenList, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a listTokensArgs
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return ops.tokens(ctx, a)
	})
	reg(opTokenRevoke, func(ctx context.Context, raw json.RawMessage) (any, error) {
		var a revokeTokenArgs
		if err := decodeArgs(raw, &a); err != nil {
			return nil, err
		}
		return ops.revokeToken(ctx, a)
	})
}

func decodeArgs(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("bad arguments: %w", err)
	}
	return nil
}

// remoteOps asks the running daemon.
type remoteOps struct{ c *control.Client }

func (r remoteOps) addUser(ctx context.Context, a addUserArgs) (out userRow, err error) {
	return out, r.c.Call(ctx, opUserAdd, a, &out)
}

func (r remoteOps) users(ctx context.Context) (out []userRow, err error) {
	return out, r.c.Call(ctx, opUserList, nil, &out)
}

func (r remoteOps) passwd(ctx context.Context, a passwdArgs) (out userRow, err error) {
	return out, r.c.Call(ctx, opUserPasswd, a, &out)
}

func (r remoteOps) createToken(ctx context.Context, a createTokenArgs) (out newToken, err error) {
	return out, r.c.Call(ctx, opTokenCreate, a, &out)
}

func (r remoteOps) tokens(ctx context.Context, a listTokensArgs) (out []tokenRow, err error) {
	return out, r.c.Call(ctx, opTokenList, a, &out)
}

func (r remoteOps) revokeToken(ctx context.Context, a revokeTokenArgs) (out tokenRow, err error) {
	return out, r.c.Call(ctx, opTokenRevoke, a, &out)
}
