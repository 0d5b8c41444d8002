// Package config owns gsmgate's configuration: its typed shape, the defaults,
// and loading it from a TOML file, GSMGATE_* environment variables (secrets
// also from GSMGATE_*_FILE) and command-line flags, in that order of
// precedence. Validation names the key, and the file line where there is one.
//
// The package never reads global state on its own: callers pass the file path
// and the environment, and hand the resulting Config value to constructors.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultPath is where a packaged install keeps its configuration file.
const DefaultPath = "/etc/gsmgate/gsmgate.toml"

// Config is the whole configuration. The toml tags are the file's keys; the
// environment variable of a key is GSMGATE_ plus the key path in upper case
// joined by underscores (api.max_recipients is GSMGATE_API_MAX_RECIPIENTS).
type Config struct {
	// DataDir holds the database file (gsmgate.db).
	DataDir string `toml:"data_dir"`
	// Listen is the plain-HTTP listen address (the API and the web UI): for
	// loopback, or for a reverse proxy in front.
	Listen string `toml:"listen"`
	// TLSListen is the HTTPS listen address; empty serves no HTTPS.
	TLSListen string `toml:"tls_listen"`
	// TLSCert and TLSKey are PEM files of the HTTPS certificate and its
	// key; both empty makes a self-signed certificate on first run, kept in
	// the data directory.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// Modems are device paths or tcp://host:port addresses; empty means
	// discovery.
	Modems []string `toml:"modems"`
	// Demo runs against the virtual modem and a simulated network.
	Demo bool `toml:"demo"`
	// DefaultCountry is the ISO 3166 region used to normalise national
	// numbers to E.164.
	DefaultCountry string `toml:"default_country"`
	// Retention is how long messages are kept; 0 keeps them forever.
	Retention Duration `toml:"retention"`

	Log     Log     `toml:"log"`
	API     API     `toml:"api"`
	Web     Web     `toml:"web"`
	Webhook Webhook `toml:"webhook"`
	Admin   Admin   `toml:"admin"`
	Backup  Backup  `toml:"backup"`
	Policy  Policy  `toml:"policy"`
	OptOut  OptOut  `toml:"optout"`
}

// Backup configures the nightly backup of the database.
type Backup struct {
	// Keep is how many nightly backups are kept (the oldest are deleted);
	// 0 turns the nightly backup off.
	Keep int `toml:"keep"`
	// At is the local time of day it runs, "HH:MM".
	At string `toml:"at"`
	// Dir is where backups are written; empty means <data_dir>/backups.
	Dir string `toml:"dir"`
}

// AtClock parses Backup.At into hours and minutes.
func (b Backup) AtClock() (hour, minute int, err error) {
	t, err := time.Parse("15:04", b.At)
	if err != nil {
		return 0, 0, fmt.Errorf("want a time of day like \"03:30\"; got %q", b.At)
	}
	return t.Hour(), t.Minute(), nil
}

// Policy is the sending policy, for every SIM (per SIM in Modems).
type Policy struct {
	// RatePerMinute is the most SMS parts one SIM sends in a minute
	// (0: no limit). Operators block SIMs that send faster than a person
	// could; the default, 10, is well inside what they tolerate.
	RatePerMinute float64 `toml:"rate_per_minute"`
	// DailyCap is the most bulk parts one SIM sends in a day (0: none).
	DailyCap int `toml:"daily_cap"`
	// QuietHours is when bulk sends wait, "21:00-08:00" ("": never);
	// one-to-one messages are not held.
	QuietHours string `toml:"quiet_hours"`
	// TimeZone is the IANA zone of quiet hours and of the daily cap's day
	// ("": the system's).
	TimeZone string `toml:"time_zone"`
	// Modems overrides the above per modem, by IMEI:
	// [policy.modems.356938035643809] rate_per_minute = 5
	Modems map[string]ModemPolicy `toml:"modems"`
}

// ModemPolicy overrides the policy for one SIM; a zero field keeps the
// global value.
type ModemPolicy struct {
	RatePerMinute float64 `toml:"rate_per_minute"`
	DailyCap      int     `toml:"daily_cap"`
	QuietHours    string  `toml:"quiet_hours"`
}

// OptOut configures opt-out by SMS.
type OptOut struct {
	// Disabled stops reading stop and start words from incoming SMS.
	Disabled bool `toml:"disabled"`
	// StopWords and StartWords, texted alone (case and accents ignored),
	// opt the sender out of bulk sends and back in.
	StopWords  []string `toml:"stop_words"`
	StartWords []string `toml:"start_words"`
	// StopReply and StartReply confirm the change to the sender, once.
	StopReply  string `toml:"stop_reply"`
	StartReply string `toml:"start_reply"`
}

// Log configures log/slog.
type Log struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// API configures the HTTP API's limits.
type API struct {
	MaxRecipients int     `toml:"max_recipients"`
	MaxBodyBytes  int64   `toml:"max_body_bytes"`
	MaxTextChars  int     `toml:"max_text_chars"`
	RatePerSecond float64 `toml:"rate_per_second"` // per token
	RateBurst     int     `toml:"rate_burst"`
}

// Web configures the staff web UI.
type Web struct {
	// SecureCookies is when the session cookie is marked Secure: "auto"
	// on a request that came over TLS (tls_listen); "always" also on
	// plain HTTP, for a TLS-terminating reverse proxy in front (its
	// X-Forwarded-Proto is not trusted); "never" not even over TLS.
	SecureCookies string `toml:"secure_cookies"`
}

// Webhook configures the webhook sender.
type Webhook struct {
	Timeout Duration `toml:"timeout"` // a delivery needs a 2xx within this
	MaxAge  Duration `toml:"max_age"` // retries stop after this long
	Workers int      `toml:"workers"`
}

// Admin bootstraps the first administrator on an empty database.
type Admin struct {
	Name     string `toml:"name"`
	Password string `toml:"password" secret:"true"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		DataDir:        "/var/lib/gsmgate",
		Listen:         "127.0.0.1:8080",
		DefaultCountry: "GB",
		Log:            Log{Level: "info", Format: "text"},
		API: API{
			MaxRecipients: 10000,
			MaxBodyBytes:  4 << 20,
			MaxTextChars:  1600,
			RatePerSecond: 50,
			RateBurst:     100,
		},
		Web: Web{SecureCookies: "auto"},
		Webhook: Webhook{
			Timeout: Duration(10 * time.Second),
			MaxAge:  Duration(48 * time.Hour),
			Workers: 4,
		},
		Admin:  Admin{Name: "admin"},
		Backup: Backup{Keep: 7, At: "03:30"},
		Policy: Policy{RatePerMinute: 10},
		OptOut: OptOut{
			StopWords:  []string{"STOP", "UNSUBSCRIBE", "STOPALL", "END", "QUIT", "CANCEL"},
			StartWords: []string{"START", "UNSTOP"},
			StopReply:  "You will get no more bulk messages from us. Reply START to receive them again.",
			StartReply: "You will receive our bulk messages again. Reply STOP to stop them.",
		},
	}
}

// Duration is a time.Duration written as a Go duration string ("10s", "48h")
// in TOML and in the environment.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("not a duration (like \"10s\" or \"48h\"): %q", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Problem is one thing wrong with a configuration.
type Problem struct {
	Source string // file name, "environment" or "flags"
	Line   int    // 0 when unknown
	Key    string // the TOML key path, e.g. api.max_recipients
	Msg    string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Source != "" {
		b.WriteString(p.Source)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
		}
		b.WriteString(": ")
	}
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Problems is the error returned when a configuration is invalid; it lists
// every problem found, not only the first.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return "config: " + strings.Join(lines, "\nconfig: ")
}

// Load builds the configuration: defaults, then the file at path (skipped if
// path is empty, or if it does not exist and optional is true), then the
// environment given as "KEY=value" strings (os.Environ()). Flags are applied
// by the caller afterwards with Set, then Validate. On error the returned
// Problems name each key and line.
func Load(path string, optional bool, environ []string) (Config, error) {
	cfg := Default()
	var ps Problems
	if path != "" {
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			ps = append(ps, decodeFile(path, data, &cfg)...)
		case optional && errors.Is(err, os.ErrNotExist):
		default:
			return cfg, Problems{{Source: path, Msg: err.Error()}}
		}
	}
	ps = append(ps, applyEnv(&cfg, environ)...)
	if len(ps) > 0 {
		return cfg, ps
	}
	return cfg, nil
}

// Check loads the file at path on its own (no environment) and validates it:
// what `gsmgate config check` runs.
func Check(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, Problems{{Source: path, Msg: err.Error()}}
	}
	cfg := Default()
	ps := decodeFile(path, data, &cfg)
	if len(ps) == 0 {
		lines := keyLines(data)
		for _, p := range cfg.validate() {
			p.Source, p.Line = path, lines[p.Key]
			ps = append(ps, p)
		}
	}
	if len(ps) > 0 {
		return cfg, ps
	}
	return cfg, nil
}

var plainErrRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

func decodeFile(path string, data []byte, cfg *Config) Problems {
	md, err := toml.Decode(string(data), cfg)
	if err != nil {
		var pe toml.ParseError
		var ppe *toml.ParseError
		switch {
		case errors.As(err, &pe):
		case errors.As(err, &ppe):
			pe = *ppe
		default:
			// Type mismatches come as plain errors of the form
			// `toml: line 3 (last key "a.b"): message`.
			if m := plainErrRE.FindStringSubmatch(err.Error()); m != nil {
				line, _ := strconv.Atoi(m[1])
				return Problems{{Source: path, Line: line, Key: m[2], Msg: m[3]}}
			}
			return Problems{{Source: path, Msg: err.Error()}}
		}
		msg := pe.Message
		if msg == "" {
			msg = err.Error()
		}
		return Problems{{Source: path, Line: pe.Position.Line, Key: pe.LastKey, Msg: msg}}
	}
	var ps Problems
	lines := keyLines(data)
	for _, k := range md.Undecoded() {
		ps = append(ps, Problem{Source: path, Line: lines[k.String()], Key: k.String(), Msg: "unknown key"})
	}
	return ps
}

// keyLines maps each dotted key of a TOML file to the line it is set on. The
// toml package keeps positions private, and our file is flat enough (tables
// of scalars and arrays) that a line scan finds them.
func keyLines(data []byte) map[string]int {
	out := map[string]int{}
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#':
		case line[0] == '[':
			table = strings.Trim(line, "[] \t")
			if i := strings.IndexByte(table, '#'); i >= 0 {
				table = strings.TrimSpace(table[:i])
			}
			if _, ok := out[table]; !ok {
				out[table] = n
			}
		default:
			eq := strings.IndexByte(line, '=')
			if eq <= 0 {
				continue
			}
			k := strings.Trim(strings.TrimSpace(line[:eq]), `"'`)
			if table != "" {
				k = table + "." + k
			}
			if _, ok := out[k]; !ok {
				out[k] = n
			}
		}
	}
	return out
}

// field is one settable leaf of Config.
type field struct {
	key    string // toml path, dotted
	env    string
	secret bool
	v      reflect.Value
}

func fields(cfg *Config) []field {
	var out []field
	var walk func(prefix string, v reflect.Value)
	walk = func(prefix string, v reflect.Value) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			name := sf.Tag.Get("toml")
			if prefix != "" {
				name = prefix + "." + name
			}
			fv := v.Field(i)
			if fv.Kind() == reflect.Struct {
				walk(name, fv)
				continue
			}
			out = append(out, field{
				key:    name,
				env:    "GSMGATE_" + strings.ToUpper(strings.ReplaceAll(name, ".", "_")),
				secret: sf.Tag.Get("secret") == "true",
				v:      fv,
			})
		}
	}
	walk("", reflect.ValueOf(cfg).Elem())
	return out
}

// Keys lists every configuration key with its environment variable, for
// help texts.
func Keys() [][2]string {
	var c Config
	var out [][2]string
	for _, f := range fields(&c) {
		out = append(out, [2]string{f.key, f.env})
	}
	return out
}

func applyEnv(cfg *Config, environ []string) Problems {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "GSMGATE_") {
			env[k] = v
		}
	}
	var ps Problems
	for _, f := range fields(cfg) {
		if v, ok := env[f.env]; ok {
			if err := setValue(f.v, v); err != nil {
				ps = append(ps, Problem{Source: "environment", Key: f.key, Msg: f.env + ": " + err.Error()})
			}
		}
		if !f.secret {
			continue
		}
		if p, ok := env[f.env+"_FILE"]; ok {
			b, err := os.ReadFile(p)
			if err != nil {
				ps = append(ps, Problem{Source: "environment", Key: f.key, Msg: f.env + "_FILE: " + err.Error()})
				continue
			}
			// A secret file usually ends with a newline the secret does not contain.
			f.v.SetString(strings.TrimRight(string(b), "\r\n"))
		}
	}
	return ps
}

// UnknownEnv lists the GSMGATE_* variables of environ that are not
// configuration keys: probably misspelt ones, which most programs ignore
// silently. serve logs them as a warning (not an error: test and tool knobs
// share the prefix).
func UnknownEnv(environ []string) []string {
	known := map[string]bool{"GSMGATE_CONFIG": true, "GSMGATE_URL": true, "GSMGATE_TOKEN": true}
	var c Config
	for _, f := range fields(&c) {
		known[f.env] = true
		if f.secret {
			known[f.env+"_FILE"] = true
		}
	}
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GSMGATE_") && !known[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Set sets one key (dotted TOML path) from its string form, as a flag or an
// environment variable gives it. A list key takes a comma-separated value.
func (c *Config) Set(key, value string) error {
	for _, f := range fields(c) {
		if f.key == key {
			if err := setValue(f.v, value); err != nil {
				return fmt.Errorf("config: %s: %w", key, err)
			}
			return nil
		}
	}
	return fmt.Errorf("config: unknown key %q", key)
}

func setValue(v reflect.Value, s string) error {
	if tu, ok := v.Addr().Interface().(interface{ UnmarshalText([]byte) error }); ok {
		return tu.UnmarshalText([]byte(s))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("not a boolean: %q", s)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("not an integer: %q", s)
		}
		v.SetInt(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("not a number: %q", s)
		}
		v.SetFloat(n)
	case reflect.Slice:
		var items []string
		for _, it := range strings.Split(s, ",") {
			if it = strings.TrimSpace(it); it != "" {
				items = append(items, it)
			}
		}
		v.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported kind %s", v.Kind())
	}
	return nil
}

// quietRe is the shape of a quiet-hours window.
var quietRe = regexp.MustCompile(`^\s*([01]\d|2[0-4]):[0-5]\d\s*-\s*([01]\d|2[0-4]):[0-5]\d\s*$`)

// Validate checks the values; the returned Problems name each bad key.
func (c Config) Validate() error {
	if ps := c.validate(); len(ps) > 0 {
		return ps
	}
	return nil
}

func (c Config) validate() Problems {
	var ps Problems
	bad := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "not a host:port address: %q", c.Listen)
	}
	if c.TLSListen != "" {
		if _, _, err := net.SplitHostPort(c.TLSListen); err != nil {
			bad("tls_listen", "not a host:port address: %q", c.TLSListen)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls_cert", "set tls_cert and tls_key together (or neither, for a self-signed certificate)")
	}
	if c.Backup.Keep < 0 {
		bad("backup.keep", "must not be negative (0 turns the nightly backup off)")
	}
	if _, _, err := c.Backup.AtClock(); err != nil {
		bad("backup.at", "%v", err)
	}
	for i, m := range c.Modems {
		if !strings.HasPrefix(m, "/") && !strings.HasPrefix(m, "tcp://") {
			bad("modems", "entry %d %q: want a device path (/dev/ttyUSB2) or tcp://host:port (use --demo for the virtual modem)", i+1, m)
		}
	}
	if len(c.DefaultCountry) != 2 || strings.ToUpper(c.DefaultCountry) != c.DefaultCountry {
		bad("default_country", "want a two-letter ISO 3166 region in capitals, like \"GB\"; got %q", c.DefaultCountry)
	}
	if c.Retention < 0 {
		bad("retention", "must not be negative")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "want debug, info, warn or error; got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "want text or json; got %q", c.Log.Format)
	}
	if c.API.MaxRecipients < 1 {
		bad("api.max_recipients", "must be at least 1")
	}
	if c.API.MaxBodyBytes < 1024 {
		bad("api.max_body_bytes", "must be at least 1024")
	}
	if c.API.MaxTextChars < 1 {
		bad("api.max_text_chars", "must be at least 1")
	}
	if c.API.RatePerSecond <= 0 {
		bad("api.rate_per_second", "must be positive")
	}
	if c.API.RateBurst < 1 {
		bad("api.rate_burst", "must be at least 1")
	}
	switch c.Web.SecureCookies {
	case "auto", "always", "never":
	default:
		bad("web.secure_cookies", "want auto, always or never; got %q", c.Web.SecureCookies)
	}
	if c.Webhook.Timeout.D() <= 0 {
		bad("webhook.timeout", "must be positive")
	}
	if c.Webhook.MaxAge.D() < c.Webhook.Timeout.D() {
		bad("webhook.max_age", "must be at least webhook.timeout")
	}
	if c.Webhook.Workers < 1 {
		bad("webhook.workers", "must be at least 1")
	}
	if c.Admin.Password != "" && len(c.Admin.Password) < 8 {
		bad("admin.password", "must be at least 8 characters")
	}
	if c.Policy.RatePerMinute < 0 {
		bad("policy.rate_per_minute", "must not be negative")
	}
	if c.Policy.DailyCap < 0 {
		bad("policy.daily_cap", "must not be negative")
	}
	if c.Policy.QuietHours != "" && !quietRe.MatchString(c.Policy.QuietHours) {
		bad("policy.quiet_hours", "want HH:MM-HH:MM, like \"21:00-08:00\"; got %q", c.Policy.QuietHours)
	}
	if c.Policy.TimeZone != "" {
		if _, err := time.LoadLocation(c.Policy.TimeZone); err != nil {
			bad("policy.time_zone", "unknown time zone %q (want an IANA name like \"Europe/London\")", c.Policy.TimeZone)
		}
	}
	for id, m := range c.Policy.Modems {
		key := "policy.modems." + id
		if m.RatePerMinute < 0 {
			bad(key+".rate_per_minute", "must not be negative")
		}
		if m.DailyCap < 0 {
			bad(key+".daily_cap", "must not be negative")
		}
		if m.QuietHours != "" && !quietRe.MatchString(m.QuietHours) {
			bad(key+".quiet_hours", "want HH:MM-HH:MM; got %q", m.QuietHours)
		}
	}
	if !c.OptOut.Disabled && (len(c.OptOut.StopWords) == 0 || len(c.OptOut.StartWords) == 0) {
		bad("optout.stop_words", "stop_words and start_words must not be empty (set optout.disabled to turn opt-out by SMS off)")
	}
	return ps
}
