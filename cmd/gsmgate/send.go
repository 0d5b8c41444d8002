package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// listFlag is a repeatable string flag (send --to, serve --modem,
// modems --port).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func runSend(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gsmgate send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	var to listFlag
	fs.Var(&to, "to", "recipient (repeat for several)")
	url := fs.String("url", "", "API base URL (default http://<listen> from the configuration)")
	token := fs.String("token", "", "API token (default $GSMGATE_TOKEN)")
	tokenFile := fs.String("token-file", "", "read the API token from this file")
	report := fs.Bool("status-report", false, "ask for a delivery report")
	key := fs.String("idempotency-key", "", "Idempotency-Key header: a repeat with the same key sends nothing new")
	setUsage(fs, stderr,
		`usage: gsmgate send --to NUMBER [--to NUMBER ...] [--url URL] [--token T] "text"`,
		"\nSends through the running daemon's API (POST /api/v1/messages).",
	)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	text := strings.Join(fs.Args(), " ")
	if len(to) == 0 || text == "" {
		fs.Usage()
		return 2
	}
	secret := *token
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintln(stderr, "gsmgate send:", err)
			return 1
		}
		secret = strings.TrimSpace(string(b))
	}
	if secret == "" {
		secret = os.Getenv("GSMGATE_TOKEN")
	}
	if secret == "" {
		fmt.Fprintln(stderr, "gsmgate send: no API token: give --token, --token-file or GSMGATE_TOKEN (gsmgate token create makes one)")
		return 2
	}
	base := *url
	if base == "" {
		base = os.Getenv("GSMGATE_URL")
	}
	if base == "" {
		cfg, err := c.load()
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		host, port, _ := net.SplitHostPort(cfg.Listen)
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		base = "http://" + net.JoinHostPort(host, port)
	}
	body, _ := json.Marshal(map[string]any{"to": []string(to), "text": text, "status_report": *report})
	req, err := http.NewRequest(http.MethodPost, strings.TrimRight(base, "/")+"/api/v1/messages", bytes.NewReader(body))
	if err != nil {
		fmt.Fprintln(stderr, "gsmgate send:", err)
		return 2
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+secret)
	if *key != "" {
		req.Header.Set("Idempotency-Key", *key)
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "gsmgate send: %v\n(is the daemon running? gsmgate serve)\n", err)
		return 1
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode != http.StatusAccepted {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Code != "" {
			fmt.Fprintf(stderr, "gsmgate send: %s (%s, HTTP %d)\n", e.Error.Message, e.Error.Code, res.StatusCode)
		} else {
			fmt.Fprintf(stderr, "gsmgate send: HTTP %d: %s\n", res.StatusCode, raw)
		}
		return 1
	}
	var out struct {
		BatchID  string `json:"batch_id"`
		Replayed bool   `json:"replayed"`
		Messages []struct {
			ID, To, State, Encoding string
			Parts                   int
		} `json:"messages"`
		Errors []struct {
			Index   int    `json:"index"`
			To      string `json:"to"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		fmt.Fprintf(stderr, "gsmgate send: unexpected answer: %s\n", raw)
		return 1
	}
	for _, m := range out.Messages {
		fmt.Fprintf(stdout, "%s  %s  %s, %d part(s), %s\n", m.ID, m.To, m.Encoding, m.Parts, m.State)
	}
	for _, e := range out.Errors {
		fmt.Fprintf(stderr, "not sent to %q: %s\n", e.To, e.Message)
	}
	if out.Replayed {
		fmt.Fprintln(stdout, "(a repeat of an earlier request with the same key: nothing new was sent)")
	}
	if len(out.Errors) > 0 {
		return 1
	}
	return 0
}
