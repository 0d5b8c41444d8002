package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
)

func runToken(args []string, stdout, stderr io.Writer) int {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: gsmgate token create --user NAME [--scopes send,read] [--name LABEL] [--expires 720h]")
		fmt.Fprintln(w, "       gsmgate token list [--user NAME]")
		fmt.Fprintln(w, "       gsmgate token revoke ID")
		fmt.Fprintln(w, "\nAll take --config FILE and --data-dir DIR. While gsmgate serve runs they go through its control socket")
		fmt.Fprintln(w, "in the data directory (root or the service's group gsmgate); otherwise they open the database directly.")
		fmt.Fprintln(w, "Scopes: send, read, admin (admin implies the others). The secret is shown once, at creation.")
	}
	sub, rest, code, ok := subcommand("gsmgate token", args, []string{"create", "list", "revoke"}, usage, stdout, stderr)
	if !ok {
		return code
	}
	fs := flag.NewFlagSet("gsmgate token "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	user := fs.String("user", "", "the user the token acts for (create; filter for list)")
	scopes := fs.String("scopes", "send,read", "comma-separated scopes (create)")
	name := fs.String("name", "", "a label for the token (create; default the user's name and the date)")
	expires := fs.Duration("expires", 0, "lifetime, e.g. 720h (create; default never)")
	if code, ok := parseFlags(fs, rest); !ok {
		return code
	}
	if sub == "create" && *user == "" {
		fmt.Fprintln(stderr, "gsmgate token create: --user is required")
		return 2
	}
	if sub == "revoke" && fs.NArg() != 1 {
		fmt.Fprintln(stderr, "gsmgate token revoke: give the token ID (gsmgate token list shows them)")
		return 2
	}
	ops, done, code, ok := adminOpsFromFlags(&c, "gsmgate token", false, stderr)
	if !ok {
		return code
	}
	defer done()
	ctx := context.Background()
	switch sub {
	case "create":
		a := createTokenArgs{User: *user, Name: *name}
		for _, s := range scopesFrom(*scopes) {
			a.Scopes = append(a.Scopes, string(s))
		}
		if *expires > 0 {
			a.Expires = time.Now().Add(*expires)
		}
		nt, err := ops.createToken(ctx, a)
		if err != nil {
			return failLine(stderr, "gsmgate token create", err)
		}
		t := nt.Token
		fmt.Fprintf(stdout, "token %s (%s) for %s, scopes %s\n", t.ID, t.Name, t.User, joinScopes(t.Scopes))
		fmt.Fprintf(stdout, "secret: %s\n(shown once: use it as \"Authorization: Bearer <secret>\", or as the password with the name as login on /3rdparty/v1)\n", nt.Secret)
	case "list":
		ts, err := ops.tokens(ctx, listTokensArgs{User: *user})
		if err != nil {
			return failLine(stderr, "gsmgate token list", err)
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tUSER\tSCOPES\tPREFIX\tCREATED\tEXPIRES\tLAST USED")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.User, joinScopes(t.Scopes), t.Prefix,
				t.CreatedAt.Local().Format("2006-01-02 15:04"), fmtTime(t.ExpiresAt), fmtTime(t.LastUsedAt))
		}
		tw.Flush()
	case "revoke":
		id, err := model.ParseID(fs.Arg(0))
		if err != nil {
			fmt.Fprintf(stderr, "gsmgate token revoke: %q is not a token ID\n", fs.Arg(0))
			return 2
		}
		t, err := ops.revokeToken(ctx, revokeTokenArgs{ID: id})
		if err != nil {
			return failLine(stderr, "gsmgate token revoke", err)
		}
		fmt.Fprintf(stdout, "token %s (%s) revoked\n", t.ID, t.Name)
	}
	return 0
}

func joinScopes(ss []model.Scope) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ",")
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}
