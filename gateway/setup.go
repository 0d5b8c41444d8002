package gateway

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// First run: while the database has no user, the web UI offers a setup
// page that creates the first admin. So that the first person on the LAN
// cannot take the appliance, the page answers only a loopback client (the
// UI checks the address) or one who gives the one-time setup code, which
// only the log shows (SetupCode). The code is made once per process and
// dies with the setup.

// NeedsSetup reports whether the database has no user yet.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	empty := false
	err := s.st.View(func(tx *store.Tx) error {
		us, err := tx.Users()
		empty = len(us) == 0
		return err
	})
	if err != nil {
		return false, fmt.Errorf("gateway: setup: %w", err)
	}
	return empty, nil
}

// setupAlphabet has no look-alikes (0/O, 1/l/I), so the code is easy to
// copy from a log by hand.
const setupAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// SetupCode is the one-time code that opens the setup page from another
// machine: 12 characters (60 bits), made at the first call, "" once a user
// exists. serve prints it in the log at start.
func (s *Service) SetupCode(ctx context.Context) (string, error) {
	need, err := s.NeedsSetup(ctx)
	if err != nil || !need {
		return "", err
	}
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	if s.setupCode == "" {
		var raw [12]byte
		if _, err := rand.Read(raw[:]); err != nil {
			return "", fmt.Errorf("gateway: setup code: %w", err)
		}
		for i := range raw {
			raw[i] = setupAlphabet[int(raw[i])%len(setupAlphabet)]
		}
		s.setupCode = string(raw[:])
	}
	return s.setupCode, nil
}

// CheckSetupCode reports whether code is the setup code (in constant
// time; never true before SetupCode made one or after setup).
func (s *Service) CheckSetupCode(code string) bool {
	s.setupMu.Lock()
	want := s.setupCode
	s.setupMu.Unlock()
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1
}

// SetupFirstAdmin creates the first user, an admin, in one transaction
// that also checks there is still no user: two setup pages submitted at
// once make one admin, the other gets ErrConflict. The setup code dies.
func (s *Service) SetupFirstAdmin(ctx context.Context, name, password string) (model.User, error) {
	if err := ctxErr(ctx); err != nil {
		return model.User{}, err
	}
	if err := validateUserFields(name, model.RoleAdmin, model.VisibilityAll); err != nil {
		return model.User{}, err
	}
	hash, err := s.hashPassword(password)
	if err != nil {
		return model.User{}, err
	}
	now := s.clock.Now()
	u := model.User{ID: s.st.NewID(), Name: name, Role: model.RoleAdmin, Visibility: model.VisibilityAll,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	err = s.st.Update(func(tx *store.Tx) error {
		us, err := tx.Users()
		if err != nil {
			return err
		}
		if len(us) > 0 {
			return fmt.Errorf("%w: the appliance is already set up; log in instead", ErrConflict)
		}
		if err := tx.PutUser(&u); err != nil {
			return err
		}
		return tx.AppendAudit(&model.AuditEntry{At: now, ActorID: u.ID, Actor: u.Name, Action: model.AuditSetupCompleted,
			Target: u.Name, Detail: "first admin created on the setup page"})
	})
	if err != nil {
		if isCallerError(err) {
			return model.User{}, err
		}
		return model.User{}, fmt.Errorf("gateway: setup: %w", err)
	}
	s.setupMu.Lock()
	s.setupCode = ""
	s.setupMu.Unlock()
	return public(u), nil
}
