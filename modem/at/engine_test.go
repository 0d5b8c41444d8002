package at

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	pdu1 = "07919730071111F1040B919701119905F80000211062320150610CC8329BFD065DDF72363904"
	pdu2 = "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07"
)

var seeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8}

// answers is a fixed command → reply script.
func answers(m map[string]string) func(p *peer, cmd string) {
	return func(p *peer, cmd string) {
		if r, ok := m[cmd]; ok {
			p.send(r)
			return
		}
		p.send("\r\nERROR\r\n")
	}
}

func TestExecResults(t *testing.T) {
	tests := []struct {
		cmd, reply string
		want       []string
		check      func(t *testing.T, err error)
	}{
		{cmd: "AT", reply: "\r\nOK\r\n"},
		{cmd: "AT+CSQ", reply: "\r\n+CSQ: 20,99\r\n\r\nOK\r\n", want: []string{"+CSQ: 20,99"}},
		{cmd: "ATI", reply: "\r\nSIMCOM_Ltd\r\nSIMCOM_SIM800L\r\nRevision:1418B04SIM800L24\r\n\r\nOK\r\n",
			want: []string{"SIMCOM_Ltd", "SIMCOM_SIM800L", "Revision:1418B04SIM800L24"}},
		{cmd: "AT+CMGR=1", reply: "\r\n+CMGR: 0,,37\r\n" + pdu1 + "\r\n\r\nOK\r\n", want: []string{"+CMGR: 0,,37", pdu1}},
		// Registered URC names answering their own read command are the answer.
		{cmd: "AT+CREG?", reply: "\r\n+CREG: 0,1\r\n\r\nOK\r\n", want: []string{"+CREG: 0,1"}},
		{cmd: "AT+CPIN?", reply: "\r\n+CPIN: READY\r\n\r\nOK\r\n", want: []string{"+CPIN: READY"}},
		{cmd: "AT+CREG?;+CSQ", reply: "\r\n+CREG: 0,5\r\n\r\n+CSQ: 3,0\r\n\r\nOK\r\n", want: []string{"+CREG: 0,5", "+CSQ: 3,0"}},
		{cmd: "AT+FOO", reply: "\r\nERROR\r\n", check: func(t *testing.T, err error) {
			if !errors.Is(err, ErrError) {
				t.Errorf("err = %v, want ErrError", err)
			}
		}},
		{cmd: "AT+CPMS?", reply: "\r\n+CME ERROR: 10\r\n", check: wantCME(10, "SIM not inserted")},
		{cmd: "AT+CSCA?", reply: "\r\n+CME ERROR: SIM PIN required\r\n", check: wantCME(11, "SIM PIN required")},
		{cmd: "AT+CSCB?", reply: "\r\n+CME ERROR: flux capacitor\r\n", check: wantCME(-1, "flux capacitor")},
		{cmd: "AT+CMGD=1", reply: "\r\n+CMS ERROR: 321\r\n", check: wantCMS(321, "invalid memory index")},
		{cmd: "AT+CMGD=2", reply: "\r\n+CMS ERROR: 42\r\n", check: wantCMS(42, "congestion")},
		{cmd: "AT^FOO", reply: "\r\nCOMMAND NOT SUPPORT\r\n", check: func(t *testing.T, err error) {
			if !errors.Is(err, ErrNotSupported) {
				t.Errorf("err = %v, want ErrNotSupported", err)
			}
		}},
		{cmd: "ATD+4917012345;", reply: "\r\nNO CARRIER\r\n", check: wantFinal("NO CARRIER")},
		{cmd: "ATD+4917012346;", reply: "\r\nBUSY\r\n", check: wantFinal("BUSY")},
		{cmd: "AT+CMGF=0,1,2,3", reply: "\r\nTOO MANY PARAMETERS\r\n", check: wantFinal("TOO MANY PARAMETERS")},
		// Lines before an error result are returned with it.
		{cmd: "AT+COPS?", reply: "\r\n+COPS: 0\r\n\r\n+CME ERROR: 30\r\n", want: []string{"+COPS: 0"}, check: wantCME(30, "no network service")},
	}
	script := map[string]string{}
	for _, tc := range tests {
		script[tc.cmd] = tc.reply
	}
	for _, echo := range []bool{false, true} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("echo=%v/seed=%d", echo, seed), func(t *testing.T) {
				r := newRig(t, seed, answers(script))
				r.p.setEcho(echo)
				for _, tc := range tests {
					lines, err := r.e.Exec(ctx(t), tc.cmd)
					if tc.check == nil && err != nil {
						t.Fatalf("%s: %v", tc.cmd, err)
					}
					if tc.check != nil {
						tc.check(t, err)
					}
					if !reflect.DeepEqual(lines, tc.want) {
						t.Errorf("%s: lines = %q, want %q", tc.cmd, lines, tc.want)
					}
				}
			})
		}
	}
}

func wantCME(code int, text string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ce *CMEError
		if !errors.As(err, &ce) || ce.Code != code || ce.Text != text {
			t.Errorf("err = %v, want +CME ERROR %d %q", err, code, text)
		}
		if err != nil && !strings.Contains(err.Error(), text) {
			t.Errorf("%q lacks the meaning %q", err, text)
		}
	}
}

func wantCMS(code int, text string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ce *CMSError
		if !errors.As(err, &ce) || ce.Code != code || ce.Text != text {
			t.Errorf("err = %v, want +CMS ERROR %d %q", err, code, text)
		}
		if err != nil && !strings.Contains(err.Error(), text) {
			t.Errorf("%q lacks the meaning %q", err, text)
		}
	}
}

func wantFinal(result string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var fe *FinalError
		if !errors.As(err, &fe) || fe.Result != result {
			t.Errorf("err = %v, want FinalError %q", err, result)
		}
	}
}

func TestURCsAreCutOutOfResponses(t *testing.T) {
	script := map[string]string{
		// A listing interrupted by three URCs, one of them two lines long.
		"AT+CMGL=4": "\r\n+CMGL: 1,1,,37\r\n" + pdu1 + "\r\n+CMTI: \"SM\",5\r\n+CMGL: 2,1,,37\r\n" + pdu2 +
			"\r\n+CMT: ,37\r\n" + pdu1 + "\r\nRING\r\n\r\nOK\r\n",
		// A set command of a registered name: the +CREG line is unsolicited.
		"AT+CREG=2": "\r\n+CREG: 1\r\n\r\nOK\r\n",
		// A code registered with WithURC, and one before the info line.
		"AT+CGSN": "\r\n+FOO: bar\r\n\r\n^RSSI:17\r\n867584030000000\r\n\r\nOK\r\n",
	}
	for _, echo := range []bool{false, true} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("echo=%v/seed=%d", echo, seed), func(t *testing.T) {
				r := newRig(t, seed, answers(script), WithURC("+FOO:", 1))
				r.p.setEcho(echo)
				lines, err := r.e.Exec(ctx(t), "AT+CMGL=4")
				if err != nil {
					t.Fatal(err)
				}
				want := []string{"+CMGL: 1,1,,37", pdu1, "+CMGL: 2,1,,37", pdu2}
				if !reflect.DeepEqual(lines, want) {
					t.Errorf("CMGL lines = %q, want %q", lines, want)
				}
				if lines, err = r.e.Exec(ctx(t), "AT+CREG=2"); err != nil || len(lines) != 0 {
					t.Errorf("CREG=2: %q, %v; want no lines", lines, err)
				}
				if lines, err = r.e.Exec(ctx(t), "AT+CGSN"); err != nil || !reflect.DeepEqual(lines, []string{"867584030000000"}) {
					t.Errorf("CGSN: %q, %v", lines, err)
				}
				wantURCs := []URC{
					{Prefix: "+CMTI", Line: `+CMTI: "SM",5`},
					{Prefix: "+CMT", Line: "+CMT: ,37", Extra: []string{pdu1}},
					{Prefix: "RING", Line: "RING"},
					{Prefix: "+CREG", Line: "+CREG: 1"},
					{Prefix: "+FOO", Line: "+FOO: bar"},
					{Prefix: "^RSSI", Line: "^RSSI:17"},
				}
				for _, w := range wantURCs {
					u := r.nextURC(t)
					if u.Prefix != w.Prefix || u.Line != w.Line || !reflect.DeepEqual(u.Extra, w.Extra) || u.Time.IsZero() {
						t.Errorf("URC = %+v, want %+v", u, w)
					}
				}
			})
		}
	}
}

func TestURCWhileIdleAndSplitPDU(t *testing.T) {
	for _, seed := range seeds {
		r := newRig(t, seed, answers(map[string]string{"AT": "\r\nOK\r\n"}))
		r.p.send("\r\n+CDS: 25\r\n" + pdu2 + "\r\n\r\n+CDSI: \"SR\",2\r\n")
		u := r.nextURC(t)
		if u.Prefix != "+CDS" || !reflect.DeepEqual(u.Extra, []string{pdu2}) {
			t.Errorf("seed %d: %+v", seed, u)
		}
		if u = r.nextURC(t); u.Line != `+CDSI: "SR",2` {
			t.Errorf("seed %d: %+v", seed, u)
		}
	}
}

func TestExecSMS(t *testing.T) {
	for _, tc := range []struct {
		name           string
		space, echo    bool
		urcAfterPrompt bool
	}{
		{name: "prompt-space", space: true},
		{name: "prompt-bare", space: false},
		{name: "sim800-echo", space: true, echo: true},
		{name: "echo-bare-urc", space: false, echo: true, urcAfterPrompt: true},
	} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%s/seed=%d", tc.name, seed), func(t *testing.T) {
				r := newRig(t, seed, func(p *peer, cmd string) {
					if cmd == "AT+CMGS=23" {
						p.prompt(tc.space)
						if tc.urcAfterPrompt {
							p.send("\r\n+CMTI: \"SM\",1\r\n")
						}
						return
					}
					p.send("\r\nERROR\r\n")
				})
				r.p.setEcho(tc.echo)
				r.p.echoPDU = tc.echo
				r.p.sms = func(p *peer, pdu string) {
					p.send("\r\n+CMGS: 42\r\n\r\nOK\r\n")
				}
				lines, err := r.e.ExecSMS(ctx(t), "AT+CMGS=23", pdu1)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(lines, []string{"+CMGS: 42"}) {
					t.Errorf("lines = %q", lines)
				}
				got := r.p.received()
				if want := []string{"AT+CMGS=23", "<PDU:" + pdu1 + ">"}; !reflect.DeepEqual(got, want) {
					t.Errorf("peer received %q, want %q", got, want)
				}
				if tc.urcAfterPrompt {
					if u := r.nextURC(t); u.Prefix != "+CMTI" {
						t.Errorf("URC %+v", u)
					}
				}
			})
		}
	}
}

func TestExecSMSErrorInsteadOfPrompt(t *testing.T) {
	r := newRig(t, 1, answers(map[string]string{"AT+CMGS=23": "\r\n+CMS ERROR: 304\r\n", "AT": "\r\nOK\r\n"}))
	_, err := r.e.ExecSMS(ctx(t), "AT+CMGS=23", pdu1)
	wantCMS(304, "invalid PDU mode parameter")(t, err)
	// The link stays in step: no resync is needed.
	if _, err := r.e.Exec(ctx(t), "AT"); err != nil {
		t.Fatal(err)
	}
	if got := r.p.received(); !reflect.DeepEqual(got, []string{"AT+CMGS=23", "AT"}) {
		t.Errorf("peer received %q", got)
	}
	if _, err := r.e.ExecSMS(ctx(t), "AT+CMGS=23", "not hex"); !errors.Is(err, ErrBadCommand) {
		t.Errorf("non-hex PDU: %v", err)
	}
}

// The prompt never comes: ESC cancels, and the engine resynchronises even
// though the modem never answers the abandoned +CMGS (it eats the first probe's
// OK as the owed answer, sees the link go quiet, and probes again).
func TestExecSMSNoPrompt(t *testing.T) {
	r := newRig(t, 3, func(p *peer, cmd string) {
		switch cmd {
		case "AT+CMGS=23":
		case "AT":
			p.send("\r\nOK\r\n")
		case "AT+CSQ":
			p.send("\r\n+CSQ: 11,99\r\n\r\nOK\r\n")
		}
	}, WithTimeout(50*time.Millisecond), WithResyncTimeout(time.Second))
	_, err := r.e.ExecSMS(ctx(t), "AT+CMGS=23", pdu1)
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	r.p.waitFor(t, "<ESC>")
	lines, err := r.e.Exec(ctx(t), "AT+CSQ")
	if err != nil || !reflect.DeepEqual(lines, []string{"+CSQ: 11,99"}) {
		t.Fatalf("after resync: %q, %v", lines, err)
	}
}

// A late prompt of an abandoned +CMGS is closed with ESC at once, so the next
// command is not swallowed as PDU text.
func TestLatePromptIsCancelled(t *testing.T) {
	release := make(chan struct{})
	r := newRig(t, 4, func(p *peer, cmd string) {
		switch cmd {
		case "AT+CMGS=23":
			go func() { <-release; p.prompt(true) }()
		case "AT":
			p.send("\r\nOK\r\n")
		case "AT+CGMI":
			p.send("\r\nQuectel\r\n\r\nOK\r\n")
		}
	}, WithTimeout(30*time.Millisecond), WithResyncTimeout(time.Second))
	r.p.onESC = func(p *peer) { p.send("\r\nOK\r\n") } // the abandoned +CMGS's final
	if _, err := r.e.ExecSMS(ctx(t), "AT+CMGS=23", pdu1); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v", err)
	}
	r.p.waitFor(t, "<ESC>") // the engine's cancel, before any prompt: ignored by the peer
	close(release)
	r.p.waitFor(t, "<ESC>") // the prompt, now open, is cancelled by the reader
	lines, err := r.e.Exec(ctx(t), "AT+CGMI")
	if err != nil || !reflect.DeepEqual(lines, []string{"Quectel"}) {
		t.Fatalf("CGMI: %q, %v", lines, err)
	}
}

func TestLateAnswerNeverCredited(t *testing.T) {
	for _, tc := range []struct {
		name string
		// when the late answer to AT+CREG? arrives: "idle" (before the next
		// command), "probe" (together with the answer to the resync AT).
		when string
		echo bool
	}{
		{"idle", "idle", false}, {"probe", "probe", false}, {"probe-echo", "probe", true}, {"idle-echo", "idle", true},
	} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%s/seed=%d", tc.name, seed), func(t *testing.T) {
				const late = "\r\n+CREG: 0,1\r\n\r\nOK\r\n"
				var mu sync.Mutex
				first := true
				r := newRig(t, seed, func(p *peer, cmd string) {
					switch cmd {
					case "AT+CREG?":
						mu.Lock()
						f := first
						first = false
						mu.Unlock()
						if !f {
							p.send("\r\n+CREG: 0,5\r\n\r\nOK\r\n")
						}
					case "AT":
						if tc.when == "probe" {
							p.send(late)
						}
						p.send("\r\nOK\r\n")
					case "AT+CGMI":
						p.send("\r\nSIMCOM_Ltd\r\n\r\nOK\r\n")
					}
				})
				r.p.setEcho(tc.echo)
				_, err := r.e.Exec(ctx(t), "AT+CREG?", WithCmdTimeout(20*time.Millisecond))
				if !errors.Is(err, ErrTimeout) {
					t.Fatalf("err = %v, want ErrTimeout", err)
				}
				if tc.when == "idle" {
					r.p.send(late)
				}
				lines, err := r.e.Exec(ctx(t), "AT+CGMI")
				if err != nil || !reflect.DeepEqual(lines, []string{"SIMCOM_Ltd"}) {
					t.Fatalf("CGMI got %q, %v: the late answer was credited", lines, err)
				}
				lines, err = r.e.Exec(ctx(t), "AT+CREG?")
				if err != nil || !reflect.DeepEqual(lines, []string{"+CREG: 0,5"}) {
					t.Fatalf("CREG got %q, %v", lines, err)
				}
				got := r.p.received()
				if want := []string{"AT+CREG?", "<ESC>", "AT", "AT+CGMI", "AT+CREG?"}; !reflect.DeepEqual(got, want) {
					t.Errorf("peer received %q, want %q", got, want)
				}
				// The late "+CREG: 0,1" must not have leaked as a URC either:
				// URCs are in order, so the first one seen must be this one.
				r.p.send("\r\n+CMTI: \"SM\",9\r\n")
				if u := r.nextURC(t); u.Line != `+CMTI: "SM",9` {
					t.Errorf("leaked URC %+v", u)
				}
			})
		}
	}
}

func TestContextCancelThenResync(t *testing.T) {
	r := newRig(t, 5, func(p *peer, cmd string) {
		switch cmd {
		case "AT+COPS=?":
			// answers only after the cancel, see below
		case "AT":
			p.send("\r\n+COPS: (2,\"Op\",\"Op\",\"26201\",7),,(0-4),(0-2)\r\n\r\nOK\r\n\r\nOK\r\n")
		case "AT+CSQ":
			p.send("\r\n+CSQ: 5,99\r\n\r\nOK\r\n")
		}
	})
	c, cancel := context.WithCancel(context.Background())
	go func() { r.p.waitFor(t, "AT+COPS=?"); cancel() }()
	if _, err := r.e.Exec(c, "AT+COPS=?"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	lines, err := r.e.Exec(ctx(t), "AT+CSQ")
	if err != nil || !reflect.DeepEqual(lines, []string{"+CSQ: 5,99"}) {
		t.Fatalf("CSQ: %q, %v", lines, err)
	}
	// An already-ended context fails before anything is written.
	c2, cancel2 := context.WithTimeout(context.Background(), 0)
	defer cancel2()
	if _, err := r.e.Exec(c2, "AT+CSQ"); !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired ctx: %v", err)
	}
}

func TestEOFMidResponse(t *testing.T) {
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := newRig(t, seed, func(p *peer, cmd string) {
				p.send("\r\n+CMT: ,37\r\n\r\n+CSQ: 1")
				p.conn.Close()
			})
			_, err := r.e.Exec(ctx(t), "AT+CSQ")
			if !errors.Is(err, ErrClosed) || !errors.Is(err, io.EOF) {
				t.Fatalf("err = %v, want ErrClosed wrapping io.EOF", err)
			}
			<-r.e.Done()
			if err := r.e.Err(); !errors.Is(err, ErrClosed) || !errors.Is(err, io.EOF) {
				t.Errorf("Err() = %v", err)
			}
			if _, err := r.e.Exec(ctx(t), "AT"); !errors.Is(err, ErrClosed) {
				t.Errorf("Exec after EOF: %v", err)
			}
			// The +CMT cut short by the EOF is still delivered, with what came.
			if u := r.nextURC(t); u.Prefix != "+CMT" || len(u.Extra) != 0 {
				t.Errorf("URC %+v", u)
			}
		})
	}
}

// warthog618/modem#21: closing after a timed-out command must not deadlock,
// and pending commands must return.
func TestCloseAfterTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stuck   bool // the peer stops reading: writes block
		pending bool // a second command waits when Close is called
	}{{"silent", false, false}, {"silent-pending", false, true}, {"stuck-writes", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := net.Pipe()
			e := New(a, WithTimeout(30*time.Millisecond), WithResyncTimeout(30*time.Millisecond))
			p := newPeer(t, b, 1, nil) // never answers
			if !tc.stuck {
				p.start()
			}
			defer b.Close()
			if _, err := e.Exec(ctx(t), "AT+CSQ"); !errors.Is(err, ErrTimeout) {
				t.Fatalf("err = %v, want ErrTimeout", err)
			}
			pending := make(chan error, 1)
			if tc.pending {
				go func() {
					_, err := e.Exec(context.Background(), "AT+CMGL=4", WithCmdTimeout(time.Hour))
					pending <- err
				}()
			}
			closed := make(chan error, 1)
			go func() { closed <- e.Close() }()
			select {
			case <-closed:
			case <-time.After(10 * time.Second):
				t.Fatal("Close deadlocked")
			}
			if tc.pending {
				select {
				case err := <-pending:
					if !errors.Is(err, ErrClosed) && !errors.Is(err, ErrTimeout) {
						t.Errorf("pending Exec: %v", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("pending Exec did not return after Close")
				}
			}
			<-e.readerDone
			if _, err := e.Exec(ctx(t), "AT"); !errors.Is(err, ErrClosed) {
				t.Errorf("Exec after Close: %v", err)
			}
		})
	}
}

func TestHandlerMayExec(t *testing.T) {
	results := make(chan []string, 2)
	var e *Engine
	a, b := net.Pipe()
	p := newPeer(t, b, 6, func(p *peer, cmd string) {
		switch cmd {
		case "AT+CMGR=3":
			p.send("\r\n+CMGR: 0,,37\r\n" + pdu1 + "\r\n\r\nOK\r\n")
		case "AT+CSQ":
			// A URC inside the response: its handler's Exec must wait for
			// this command, then run.
			p.send("\r\n+CMTI: \"SM\",3\r\n+CSQ: 9,99\r\n\r\nOK\r\n")
		}
	})
	e = New(a, WithURCHandler(func(u URC) {
		if u.Prefix != "+CMTI" {
			return
		}
		lines, err := e.Exec(context.Background(), "AT+CMGR=3")
		if err != nil {
			t.Errorf("Exec from handler: %v", err)
		}
		results <- lines
	}))
	p.start()
	defer func() { e.Close(); b.Close(); <-p.done }()

	p.send("\r\n+CMTI: \"SM\",3\r\n") // while idle
	if _, err := e.Exec(ctx(t), "AT+CSQ"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		select {
		case lines := <-results:
			if !reflect.DeepEqual(lines, []string{"+CMGR: 0,,37", pdu1}) {
				t.Errorf("CMGR from handler = %q", lines)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("handler's Exec deadlocked")
		}
	}
}

func TestURCQueueFullDropsOldest(t *testing.T) {
	const total = 50
	release := make(chan struct{})
	got := make(chan URC, total)
	a, b := net.Pipe()
	p := newPeer(t, b, 7, answers(map[string]string{"AT": "\r\nOK\r\n"}))
	e := New(a, WithURCQueue(2), WithURCHandler(func(u URC) {
		<-release
		got <- u
	}))
	p.start()
	defer func() { e.Close(); b.Close(); <-p.done }()
	var sb strings.Builder
	for i := 0; i < total; i++ {
		fmt.Fprintf(&sb, "\r\n+CMTI: \"SM\",%d\r\n", i)
	}
	p.send(sb.String())
	// The reader never blocks on the full queue: this command completes
	// while the handler is stuck, and by then every URC was read.
	if _, err := e.Exec(ctx(t), "AT"); err != nil {
		t.Fatal(err)
	}
	close(release)
	last, delivered := -1, 0
	for last != total-1 {
		select {
		case u := <-got:
			var n int
			fmt.Sscanf(u.Line, "+CMTI: \"SM\",%d", &n)
			if n <= last {
				t.Fatalf("out of order: %d after %d", n, last)
			}
			last = n
			delivered++
		case <-time.After(10 * time.Second):
			t.Fatalf("newest URC never delivered; last %d", last)
		}
	}
	if d := e.DroppedURCs(); d == 0 || int(d)+delivered != total {
		t.Errorf("dropped %d + delivered %d != %d", d, delivered, total)
	}
}

func TestConcurrentExecIsSerialised(t *testing.T) {
	r := newRig(t, 8, func(p *peer, cmd string) {
		var n int
		if _, err := fmt.Sscanf(cmd, "AT+CSCB=%d", &n); err != nil {
			p.send("\r\nERROR\r\n")
			return
		}
		p.send(fmt.Sprintf("\r\n+CREG: 2\r\n+CSCB: %d\r\n\r\nOK\r\n", n))
	})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lines, err := r.e.Exec(ctx(t), fmt.Sprintf("AT+CSCB=%d", i))
			if want := []string{fmt.Sprintf("+CSCB: %d", i)}; err != nil || !reflect.DeepEqual(lines, want) {
				t.Errorf("%d: %q, %v", i, lines, err)
			}
		}()
	}
	wg.Wait()
}

func TestBadCommand(t *testing.T) {
	r := newRig(t, 1, nil)
	for _, cmd := range []string{"", "  ", "AT\rAT", "AT+CMGS=1\x1a"} {
		if _, err := r.e.Exec(ctx(t), cmd); !errors.Is(err, ErrBadCommand) {
			t.Errorf("%q: %v", cmd, err)
		}
	}
}

func TestTraceRedactsPINs(t *testing.T) {
	var trace syncBuffer
	r := newRig(t, 2, answers(map[string]string{
		`AT+CPIN="1234"`:            "\r\n+CME ERROR: 16\r\n",
		`AT+CPIN="87654321","4321"`: "\r\nOK\r\n",
		`AT+CLCK="SC",0,"1234"`:     "\r\nOK\r\n",
	}), WithTrace(&trace))
	r.p.setEcho(true) // the modem sends the PIN back
	_, err := r.e.Exec(ctx(t), `AT+CPIN="1234"`)
	wantCME(16, "incorrect password")(t, err)
	if err == nil || strings.Contains(err.Error(), "1234") {
		t.Errorf("error leaks the PIN: %v", err)
	}
	for _, cmd := range []string{`AT+CPIN="87654321","4321"`, `AT+CLCK="SC",0,"1234"`} {
		if _, err := r.e.Exec(ctx(t), cmd); err != nil {
			t.Fatal(err)
		}
	}
	out := trace.String()
	for _, secret := range []string{"1234", "4321", "8765"} {
		if strings.Contains(out, secret) {
			t.Errorf("trace leaks %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`-> "AT+CPIN=\"****\"\r"`, "<- "} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
}

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`AT+CPIN="1234"`, `AT+CPIN="****"`},
		{`AT+CPIN=1234`, `AT+CPIN=****`},
		{`at+cpin="12345678","0000"`, `at+cpin="****","****"`},
		{"AT+CPWD=\"SC\",\"1111\",\"2222\"\r\nOK", "AT+CPWD=\"****\",\"****\",\"****\"\r\nOK"},
		{`AT+CPIN?`, `AT+CPIN?`},
		{"+CPIN: SIM PIN", "+CPIN: SIM PIN"},
		{"AT+CSQ", "AT+CSQ"},
	} {
		if got := redact(tc.in); got != tc.want {
			t.Errorf("redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
		// Streaming: the same result whatever the split.
		for cut := 0; cut <= len(tc.in); cut++ {
			var r redactor
			got := string(r.apply([]byte(tc.in[:cut]))) + string(r.apply([]byte(tc.in[cut:])))
			if got != tc.want {
				t.Errorf("split at %d: %q, want %q", cut, got, tc.want)
			}
		}
	}
}

func TestParseCmd(t *testing.T) {
	for _, tc := range []struct {
		cmd  string
		want []cmdPart
	}{
		{"AT+CREG?", []cmdPart{{name: "+CREG"}}},
		{"AT+CREG=2", []cmdPart{{name: "+CREG", set: true}}},
		{"AT+CNMI=?", []cmdPart{{name: "+CNMI"}}},
		{"at^sysinfo", []cmdPart{{name: "^SYSINFO"}}},
		{"AT+CMGF=0;+CSQ", []cmdPart{{name: "+CMGF", set: true}, {name: "+CSQ"}}},
		{"ATE0", nil},
	} {
		if got := parseCmd(tc.cmd); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseCmd(%q) = %+v, want %+v", tc.cmd, got, tc.want)
		}
	}
}

func TestMeanings(t *testing.T) {
	for code, want := range map[int]string{
		1: "unassigned (unallocated) number", 8: "operator determined barring", 21: "short message transfer rejected",
		38: "network out of order", 50: "requested facility not subscribed", 111: "protocol error, unspecified",
		128: "telematic interworking not supported", 208: "(U)SIM SMS storage full", 300: "ME failure",
		330: "SMSC address unknown", 340: "no +CNMA acknowledgement expected", 500: "unknown error",
		513: "manufacturer specific error 513", 200: "TP-FCS error 200", 60: "network cause 60",
	} {
		if got := CMSMeaning(code); got != want {
			t.Errorf("CMSMeaning(%d) = %q, want %q", code, got, want)
		}
	}
	for code, want := range map[int]string{
		3: "operation not allowed", 10: "SIM not inserted", 11: "SIM PIN required", 16: "incorrect password",
		30: "no network service", 100: "unknown", 600: "manufacturer specific error 600",
	} {
		if got := CMEMeaning(code); got != want {
			t.Errorf("CMEMeaning(%d) = %q, want %q", code, got, want)
		}
	}
}

// TestEchoToggle: ATE1/ATE0 switch echo mid-session, as a real modem does
// (ATE1 itself is not echoed, ATE0 is).
func TestEchoToggle(t *testing.T) {
	for _, seed := range seeds {
		r := newRig(t, seed, nil)
		r.p.script = func(p *peer, cmd string) {
			switch cmd {
			case "ATE1":
				p.send("\r\nOK\r\n")
				p.setEcho(true)
			case "ATE0":
				p.setEcho(false)
				p.send("\r\nOK\r\n")
			case "AT+CSQ":
				p.send("\r\n+CSQ: 4,99\r\n\r\nOK\r\n")
			}
		}
		for _, cmd := range []string{"AT+CSQ", "ATE1", "AT+CSQ", "ATE0", "AT+CSQ", "ATE1", "AT+CSQ"} {
			lines, err := r.e.Exec(ctx(t), cmd)
			if err != nil {
				t.Fatalf("seed %d %s: %v", seed, cmd, err)
			}
			want := []string(nil)
			if cmd == "AT+CSQ" {
				want = []string{"+CSQ: 4,99"}
			}
			if !reflect.DeepEqual(lines, want) {
				t.Errorf("seed %d %s: %q", seed, cmd, lines)
			}
		}
	}
}

func TestResync(t *testing.T) {
	var mu sync.Mutex
	silent := true
	r := newRig(t, 9, func(p *peer, cmd string) {
		mu.Lock()
		s := silent
		mu.Unlock()
		if !s {
			p.send("\r\nOK\r\n")
		}
	}, WithResyncTimeout(500*time.Millisecond)) // an answering peer must beat it even on a loaded machine
	if err := r.e.Resync(ctx(t)); !errors.Is(err, ErrTimeout) {
		t.Fatalf("silent modem: %v, want ErrTimeout", err)
	}
	mu.Lock()
	silent = false
	mu.Unlock()
	// The modem wakes up having dropped the three unanswered probes, so the
	// engine owes answers that never come: it credits the first OK to them,
	// sees the link go quiet, forgets the debt and probes again. The next
	// command then gets its own answer.
	if err := r.e.Resync(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.e.Exec(ctx(t), "AT"); err != nil {
		t.Fatal(err)
	}
	// Each probe is ESC then AT (a probe whose write could not finish in time
	// on a loaded machine may lack its AT, so only the shape is checked).
	got := r.p.received()
	if len(got) < 3 || got[0] != "<ESC>" || got[len(got)-1] != "AT" || got[len(got)-2] != "AT" {
		t.Errorf("peer received %q", got)
	}
}

func TestSetURCHandler(t *testing.T) {
	r := newRig(t, 10, nil)
	got := make(chan URC, 1)
	r.e.SetURCHandler(func(u URC) { got <- u })
	r.p.send("\r\n^BOOT:1,2\r\n")
	select {
	case u := <-got:
		if u.Prefix != "^BOOT" {
			t.Errorf("%+v", u)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no URC")
	}
}

func TestMultiLineUSSD(t *testing.T) {
	for _, seed := range seeds {
		r := newRig(t, seed, answers(map[string]string{
			`AT+CUSD=1,"*100#",15`: "\r\nOK\r\n",
			"AT+CSQ":               "\r\n+CSQ: 8,99\r\n\r\nOK\r\n",
		}))
		if _, err := r.e.Exec(ctx(t), `AT+CUSD=1,"*100#",15`); err != nil {
			t.Fatal(err)
		}
		r.p.send("\r\n+CUSD: 0,\"Balance: 5.00\r\n1. Top up\r\n2. Bundles\",15\r\n\r\n+CUSD: 2\r\n")
		lines, err := r.e.Exec(ctx(t), "AT+CSQ")
		if err != nil || !reflect.DeepEqual(lines, []string{"+CSQ: 8,99"}) {
			t.Fatalf("CSQ: %q, %v", lines, err)
		}
		if u := r.nextURC(t); u.Line != "+CUSD: 0,\"Balance: 5.00\n1. Top up\n2. Bundles\",15" {
			t.Errorf("seed %d: %q", seed, u.Line)
		}
		if u := r.nextURC(t); u.Line != "+CUSD: 2" {
			t.Errorf("seed %d: %q", seed, u.Line)
		}
	}
}

// TestLongTimeoutCommands: +CMGS (through ExecSMS), +CMGL, +COPS=? and
// +CUSD= wait for the long timeout; other commands give up after the short
// one.
func TestLongTimeoutCommands(t *testing.T) {
	// A long command's answer comes well after the short timeout and well
	// before the long one; +CSQ's comes much later than the short timeout
	// (a loaded machine may fire a timer late, but not by seconds) and
	// before the long one, so it is answered only if the long timeout
	// were wrongly applied to it.
	const slow, slower = 300 * time.Millisecond, 5 * time.Second
	later := func(p *peer, d time.Duration, s string) {
		go func() {
			time.Sleep(d)
			p.send(s)
		}()
	}
	r := newRig(t, 5, func(p *peer, cmd string) {
		switch cmd {
		case "AT+CMGS=23":
			p.prompt(true)
		case "AT":
			p.send("\r\nOK\r\n")
		case "AT+CSQ":
			later(p, slower, "\r\n+CSQ: 8,99\r\n\r\nOK\r\n")
		default:
			later(p, slow, "\r\nOK\r\n")
		}
	}, WithTimeout(50*time.Millisecond), WithLongTimeout(10*time.Second), WithResyncTimeout(5*time.Second))
	r.p.sms = func(p *peer, _ string) { later(p, slow, "\r\n+CMGS: 7\r\n\r\nOK\r\n") }
	for _, cmd := range []string{"AT+CMGL=4", "AT+COPS=?", `AT+CUSD=1,"*100#",15`} {
		if _, err := r.e.Exec(ctx(t), cmd); err != nil {
			t.Errorf("%s: %v, want the long timeout", cmd, err)
		}
	}
	if lines, err := r.e.ExecSMS(ctx(t), "AT+CMGS=23", pdu1); err != nil || len(lines) != 1 {
		t.Errorf("ExecSMS: %q, %v; want the long timeout", lines, err)
	}
	if _, err := r.e.Exec(ctx(t), "AT+CSQ"); !errors.Is(err, ErrTimeout) {
		t.Errorf("AT+CSQ: %v, want ErrTimeout after the short timeout", err)
	}
}
