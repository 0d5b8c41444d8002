package at

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"
)

func frameAll(chunks ...[]byte) []token {
	var out []token
	f := newFramer()
	for _, c := range chunks {
		f.feed(c, func(t token) { out = append(out, t) })
	}
	return out
}

func TestFramer(t *testing.T) {
	line := func(s string) token { return token{kind: tokLine, text: s} }
	prompt := token{kind: tokPrompt}
	for _, tc := range []struct {
		in   string
		want []token
	}{
		{"\r\nOK\r\n", []token{line("OK")}},
		{"AT+CSQ\r\r\n+CSQ: 1,2\r\n\r\nOK\r\n", []token{line("AT+CSQ"), line("+CSQ: 1,2"), line("OK")}},
		{"\r\n> ", []token{prompt}},
		{"\r\n>", []token{prompt}},
		{"> 0011\x1a\r\n+CMGS: 1\r\n", []token{prompt, line("0011\x1a"), line("+CMGS: 1")}},
		{"AT+CMGS=23\r\r\n>  x", []token{line("AT+CMGS=23"), prompt}}, // " x" is an unterminated line
		{"a>b\n", []token{line("a>b")}},
		{"\n\n\r\r", nil},
	} {
		if got := frameAll([]byte(tc.in)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
	long := strings.Repeat("A", maxLine+10) + "\r\n"
	got := frameAll([]byte(long))
	if len(got) != 2 || len(got[0].text) != maxLine || len(got[1].text) != 10 {
		t.Errorf("long line framed as %d tokens", len(got))
	}
}

// FuzzFramer: any stream, split anywhere, frames to the same tokens; lines
// never contain line ends and never exceed maxLine.
func FuzzFramer(f *testing.F) {
	for _, s := range []string{
		"\r\nOK\r\n", "AT+CMGS=23\r\r\n> 0011\x1a\r\n+CMGS: 4\r\n\r\nOK\r\n", "\r\n>", "> >\r\n>",
		"\r\n+CMT: ,23\r\n0791\r\n", "\x00\xff\r\x1b>", strings.Repeat("x", maxLine+1),
	} {
		f.Add([]byte(s), uint16(1), uint16(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, a, b uint16) {
		whole := frameAll(data)
		i, j := int(a)%(len(data)+1), int(b)%(len(data)+1)
		if i > j {
			i, j = j, i
		}
		split := frameAll(data[:i], data[i:j], data[j:])
		var bytewise []token
		fr := newFramer()
		for k := range data {
			fr.feed(data[k:k+1], func(t token) { bytewise = append(bytewise, t) })
		}
		if !reflect.DeepEqual(whole, split) || !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("split changes framing:\nwhole %+v\nsplit %+v\nbytes %+v", whole, split, bytewise)
		}
		for _, tk := range whole {
			if strings.ContainsAny(tk.text, "\r\n") || len(tk.text) > maxLine || (tk.kind == tokLine && tk.text == "") {
				t.Fatalf("bad token %+v", tk)
			}
		}
	})
}

// FuzzParseFinal: no panic, and every error result carries words.
func FuzzParseFinal(f *testing.F) {
	for _, s := range []string{"OK", "ERROR", "+CME ERROR: 10", "+CMS ERROR: 500", "+CME ERROR: SIM PIN required",
		"+CMS ERROR:", "+CME ERROR: -5", "NO CARRIER", "+CME ERROR: 99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		final, err := parseFinal(line)
		if !final && err != nil {
			t.Fatal("error without final")
		}
		if err != nil && err.Error() == "" {
			t.Fatal("empty error text")
		}
		var ce *CMEError
		if errors.As(err, &ce) && ce.Text == "" {
			t.Fatalf("%q: CME error without meaning", line)
		}
		var cs *CMSError
		if errors.As(err, &cs) && cs.Text == "" {
			t.Fatalf("%q: CMS error without meaning", line)
		}
	})
}

// FuzzExecResponse runs a whole engine over any answer a modem could send,
// followed by OK: Exec must return (never hang), and what it returns must
// hold no line ends, no empty lines, no final results and no registered URC.
func FuzzExecResponse(f *testing.F) {
	for _, s := range []string{
		"\r\n+CSQ: 1,2\r\n", "\r\n+CMT: ,23\r\n07911326\r\n+CSQ: 9,9\r\n", "\r\n> ", "RING\r\nfoo",
		"\r\n+CME ERROR: 3\r\n", "\r\n+CMTI: \"SM\",1", "\x1a\x1b\x00", "AT+CSQ\r\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, b := net.Pipe()
		defer b.Close()
		e := New(a)
		defer e.Close()
		go func() { // answer the command once its CR arrived; drain the rest (ESC...)
			buf := make([]byte, 256)
			answered := false
			for {
				n, err := b.Read(buf)
				if err != nil {
					return
				}
				if !answered && strings.Contains(string(buf[:n]), "\r") {
					answered = true
					go func() {
						b.Write(data)
						b.Write([]byte("\r\nOK\r\n"))
					}()
				}
			}
		}()
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		lines, err := e.Exec(c, "AT+CSQ")
		if errors.Is(err, ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Exec hung on %q", data)
		}
		for _, l := range lines {
			final, _ := parseFinal(l)
			_, urc := defaultURCs[lineName(l)]
			if l == "" || strings.ContainsAny(l, "\r\n") || final || urc {
				t.Fatalf("bad line %q in %q", l, lines)
			}
		}
	})
}
