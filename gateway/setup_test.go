package gateway

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/gsmgate/gsmgate/gateway/model"
)

func TestFirstRunSetup(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	if need, err := e.s.NeedsSetup(ctx); err != nil || !need {
		t.Fatalf("empty database: %v %v", need, err)
	}
	if e.s.CheckSetupCode("") {
		t.Fatal("the empty code opened setup before any code was made")
	}
	code, err := e.s.SetupCode(ctx)
	if err != nil || len(code) != 12 || strings.Trim(code, setupAlphabet) != "" {
		t.Fatalf("code %q %v", code, err)
	}
	if again, _ := e.s.SetupCode(ctx); again != code {
		t.Fatalf("code changed: %q, %q", code, again)
	}
	if !e.s.CheckSetupCode(code) || e.s.CheckSetupCode(strings.ToLower(code)) || e.s.CheckSetupCode(code[:11]) {
		t.Fatal("code check")
	}
	var ve *ValidationError
	if _, err := e.s.SetupFirstAdmin(ctx, "ada", "short"); !errors.As(err, &ve) {
		t.Fatalf("short password: %v", err)
	}
	// Two setup pages submitted at once make one admin.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.s.SetupFirstAdmin(ctx, []string{"ada", "eve"}[i], "long enough")
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrConflict):
			t.Fatalf("second setup: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d setups succeeded: %v", ok, errs)
	}
	us, _ := e.s.Users(ctx)
	if len(us) != 1 || us[0].Role != model.RoleAdmin {
		t.Fatalf("users %+v", us)
	}
	if need, _ := e.s.NeedsSetup(ctx); need {
		t.Fatal("still needs setup")
	}
	if e.s.CheckSetupCode(code) {
		t.Fatal("the code outlived the setup")
	}
	if c, _ := e.s.SetupCode(ctx); c != "" {
		t.Fatalf("a code after setup: %q", c)
	}
	if got := e.auditActions(); len(got) != 1 || !strings.Contains(got[0], "setup.completed") {
		t.Fatalf("audit %q", got)
	}
}
