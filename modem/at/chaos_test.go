package at

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"testing"
	"time"
)

// TestChaos drives many commands through a slow, chatty modem that answers
// in order but often after the engine gave up, now and then loses a command
// altogether, toggles echo, and sprinkles URCs everywhere. Its pauses stay
// below the resync timeout (the engine's stated assumption): at most 40 ms
// against 1 s, so that a loaded machine stalling the peer goroutine does
// not break the assumption (300 ms left less room; 1 s costs ~7 s more).
// Whatever the timing, a command that
// succeeds must get exactly its own answer, and URCs arrive in order and
// never inside a result. GSMGATE_LONG=1 runs 20x more commands.
func TestChaos(t *testing.T) {
	n := 120
	if os.Getenv("GSMGATE_LONG") != "" {
		n = 2400
	}
	for _, seed := range []uint64{21, 22} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7)) // used by the peer goroutine only
			urcSeq, mr := 0, 0                    // peer goroutine only
			urc := func() string {
				urcSeq++
				return fmt.Sprintf("\r\n+CMTI: \"SM\",%d\r\n", urcSeq)
			}
			r := newRig(t, seed, func(p *peer, cmd string) {
				if rng.IntN(25) == 0 {
					return // a command the modem lost: never answered
				}
				if rng.IntN(4) == 0 {
					time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
				}
				if rng.IntN(8) == 0 {
					p.setEcho(rng.IntN(2) == 0)
				}
				var k int
				switch {
				case fmt.Sprint(fmt.Sscanf(cmd, "AT+CMGS=%d", &k)) == "1 <nil>":
					mr = k
					p.prompt(rng.IntN(2) == 0)
				case cmd == "AT":
					p.send(urc() + "\r\nOK\r\n")
				case fmt.Sprint(fmt.Sscanf(cmd, "AT+CSCB=%d", &k)) == "1 <nil>":
					p.send(fmt.Sprintf("\r\n+CSCB: %d\r\n%s\r\nOK\r\n", k, urc()))
				default:
					p.send("\r\nERROR\r\n")
				}
			}, WithTimeout(25*time.Millisecond), WithResyncTimeout(time.Second))
			r.p.echoPDU = true
			r.p.sms = func(p *peer, pdu string) {
				if rng.IntN(4) == 0 {
					time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
				}
				p.send(fmt.Sprintf("\r\n+CMGS: %d\r\n%s\r\nOK\r\n", mr, urc()))
			}
			// A cancelled prompt ends the command with a result, as modems do.
			r.p.onESC = func(p *peer) { p.send("\r\n+CMS ERROR: 500\r\n") }

			// Collect URCs while commands run, so the queue never overflows.
			checked := make(chan error, 1)
			var last int
			go func() {
				for u := range r.urcs {
					var k int
					fmt.Sscanf(u.Line, "+CMTI: \"SM\",%d", &k)
					if k == -1 {
						checked <- nil
						return
					}
					if k != last+1 {
						checked <- fmt.Errorf("URC %d after %d", k, last)
						return
					}
					last = k
				}
			}()
			ok := 0
			for i := 0; i < n; i++ {
				var lines []string
				var err error
				want := []string{fmt.Sprintf("+CSCB: %d", i)}
				if i%5 == 4 {
					lines, err = r.e.ExecSMS(ctx(t), fmt.Sprintf("AT+CMGS=%d", i), pdu1)
					want = []string{fmt.Sprintf("+CMGS: %d", i)}
				} else {
					lines, err = r.e.Exec(ctx(t), fmt.Sprintf("AT+CSCB=%d", i))
				}
				switch {
				case err == nil:
					ok++
					if !reflect.DeepEqual(lines, want) {
						t.Fatalf("command %d got %q: an answer was credited to the wrong command", i, lines)
					}
				case !errors.Is(err, ErrTimeout):
					t.Fatalf("command %d: %v", i, err)
				}
			}
			// Every URC the peer sent reaches the handler, in order.
			r.p.send("\r\n+CMTI: \"SM\",-1\r\n")
			select {
			case err := <-checked:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("URCs stopped arriving")
			}
			if d := r.e.DroppedURCs(); d != 0 {
				t.Errorf("%d URCs dropped", d)
			}
			t.Logf("%d of %d commands answered in time; %d URCs in order", ok, n, last)
		})
	}
}
