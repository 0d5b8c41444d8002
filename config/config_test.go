package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDefaultIsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestPrecedenceFileEnvFlag(t *testing.T) {
	secret := writeFile(t, "pw", "s3cret-password\n")
	path := writeFile(t, "gsmgate.toml", `
data_dir = "/srv/gsm"
listen = "0.0.0.0:9000"
modems = ["/dev/ttyUSB2"]

[api]
max_recipients = 50
rate_per_second = 2.5

[webhook]
timeout = "5s"
`)
	env := []string{
		"GSMGATE_LISTEN=127.0.0.1:7000",
		"GSMGATE_ADMIN_PASSWORD_FILE=" + secret,
		"GSMGATE_MODEMS=/dev/ttyUSB0, tcp://10.0.0.2:4001",
		"PATH=/bin",
	}
	cfg, err := Load(path, false, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Set("listen", "[::1]:8081"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		got, want any
	}{
		{"file", cfg.DataDir, "/srv/gsm"},
		{"file nested", cfg.API.MaxRecipients, 50},
		{"file float", cfg.API.RatePerSecond, 2.5},
		{"file duration", cfg.Webhook.Timeout.D(), 5 * time.Second},
		{"default kept", cfg.API.RateBurst, 100},
		{"flag over env over file", cfg.Listen, "[::1]:8081"},
		{"env list over file", strings.Join(cfg.Modems, "|"), "/dev/ttyUSB0|tcp://10.0.0.2:4001"},
		{"secret from _FILE, newline trimmed", cfg.Admin.Password, "s3cret-password"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestCheckNamesKeyAndLine(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"unknown key", "listen = \"127.0.0.1:1\"\n\n[api]\nmax_recipient = 3\n", []string{":4: api.max_recipient: unknown key"}},
		{"bad value", "[api]\nmax_recipients = 0\n[log]\nlevel = \"loud\"\n", []string{
			":2: api.max_recipients: must be at least 1", `:4: log.level: want debug, info, warn or error; got "loud"`}},
		{"bad duration", "[webhook]\n\ntimeout = \"ten\"\n", []string{":3:", "not a duration"}},
		{"wrong type", "listen = 5\n", []string{":1:", "listen"}},
		{"syntax", "listen = \n", []string{":1:"}},
		{"bad modem", "modems = [\"COM3\"]\n", []string{`:1: modems: entry 1 "COM3"`}},
		{"bad quiet hours", "[policy]\nquiet_hours = \"9pm-8am\"\ntime_zone = \"Mars/Olympus\"\n", []string{
			`:2: policy.quiet_hours: want HH:MM-HH:MM`, `:3: policy.time_zone: unknown time zone "Mars/Olympus"`}},
		{"bad modem policy", "[policy.modems.356938035643809]\ndaily_cap = -1\n", []string{"policy.modems.356938035643809.daily_cap: must not be negative"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, "c.toml", tt.body)
			_, err := Check(p)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

func TestEnvErrors(t *testing.T) {
	_, err := Load("", false, []string{"GSMGATE_API_MAX_RECIPIENTS=lots", "GSMGATE_LISTN=x"})
	if err == nil {
		t.Fatal("no error")
	}
	if w := "api.max_recipients: GSMGATE_API_MAX_RECIPIENTS: not an integer"; !strings.Contains(err.Error(), w) {
		t.Errorf("%q missing %q", err, w)
	}
	if strings.Contains(err.Error(), "LISTN") {
		t.Errorf("an unknown variable is an error: %v", err)
	}
	if u := UnknownEnv([]string{"GSMGATE_LISTN=x", "GSMGATE_LISTEN=y", "GSMGATE_ADMIN_PASSWORD_FILE=z", "HOME=/"}); len(u) != 1 || u[0] != "GSMGATE_LISTN" {
		t.Errorf("UnknownEnv = %v", u)
	}
}

func TestOptionalMissingFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "none.toml"), true, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "none.toml"), false, nil); err == nil {
		t.Fatal("missing required file: no error")
	}
}

func TestKeysHaveEnvNames(t *testing.T) {
	found := false
	for _, k := range Keys() {
		if k[0] == "webhook.max_age" && k[1] == "GSMGATE_WEBHOOK_MAX_AGE" {
			found = true
		}
	}
	if !found {
		t.Fatal("webhook.max_age not listed")
	}
}

// The sending policy reads globally and per modem from the file.
func TestPolicyKeys(t *testing.T) {
	p := writeFile(t, "c.toml", `
[policy]
rate_per_minute = 6
daily_cap = 400
quiet_hours = "21:00-08:00"
time_zone = "Europe/London"
[policy.modems.356938035643809]
rate_per_minute = 3
[optout]
stop_words = ["STOP", "ARRET"]
`)
	c, err := Check(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.RatePerMinute != 6 || c.Policy.DailyCap != 400 || c.Policy.QuietHours != "21:00-08:00" || c.Policy.TimeZone != "Europe/London" {
		t.Errorf("policy %+v", c.Policy)
	}
	if m := c.Policy.Modems["356938035643809"]; m.RatePerMinute != 3 {
		t.Errorf("per-modem policy %+v", c.Policy.Modems)
	}
	if strings.Join(c.OptOut.StopWords, ",") != "STOP,ARRET" || len(c.OptOut.StartWords) != 2 {
		t.Errorf("optout %+v", c.OptOut)
	}
	if Default().Policy.RatePerMinute != 10 {
		t.Errorf("the default rate limit is %v, want the conservative 10/min", Default().Policy.RatePerMinute)
	}
}
