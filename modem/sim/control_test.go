package sim

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestControlFaults drives each fault of POST /faults over real HTTP and
// checks what the AT client sees.
func TestControlFaults(t *testing.T) {
	r := newRig(t, ModemOptions{})
	srv := httptest.NewServer(r.net.ControlHandler(r.ctx, r.m))
	defer srv.Close()
	post := func(body string, want int) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("POST /faults %s: %d, want %d", body, resp.StatusCode, want)
		}
	}
	r.c.ok("ATE0")
	r.c.ok("AT+CMEE=1")
	tp := submitTPDU("+447700900555", "x", false)

	// send_errors, and a later request naming other faults keeps them.
	post(`{"send_errors": [42, 1]}`, 200)
	post(`{"latency_ms": 20}`, 200)
	r.m.mu.Lock()
	lat := r.m.faults.Latency
	r.m.mu.Unlock()
	if lat != 20*time.Millisecond {
		t.Fatalf("latency_ms: fault latency %v", lat)
	}
	for _, want := range []string{"+CMS ERROR: 42", "+CMS ERROR: 1", "OK"} {
		if _, final := r.c.sendPDU(tp); final != want {
			t.Fatalf("send: %q, want %q", final, want)
		}
	}

	// send_timeouts: the send is never answered; the next command is.
	post(`{"send_timeouts": 1, "latency_ms": 0}`, 200)
	r.c.write("AT+CMGS=" + itoa(len(tp)) + "\r")
	r.c.until(func(l string) bool { return l == "> " })
	r.c.write("00" + strings.ToUpper(hexString(tp)) + "\x1a")
	if got := r.c.ok("AT+CGMI"); !slices.Equal(got, []string{"gsmgate"}) {
		t.Fatalf("after a lost send: %q", got)
	}

	// garbage: noise before the next answer.
	post(`{"garbage": 1}`, 200)
	if got := r.c.ok("AT+CGMI"); len(got) != 2 || !strings.Contains(got[0], "\xff") {
		t.Fatalf("garbage: %q", got)
	}

	// hang: silence until "hang": false.
	post(`{"hang": true}`, 200)
	r.c.write("AT+CGMM\r")
	select {
	case l := <-r.c.lines:
		t.Fatalf("hung modem said %q", l)
	case <-time.After(100 * time.Millisecond):
	}
	post(`{"hang": false}`, 200)
	r.c.ok("AT")

	post(`{"send_timeouts": -1}`, 400)
	post(`{"garbage": -2}`, 400)
	post(`{"send_errors": [0]}`, 400)

	// unplug closes the port; the send errors set before it survive.
	post(`{"send_errors": [38]}`, 200)
	post(`{"unplug": true}`, 200)
	for range r.c.lines {
	}
	r.m.mu.Lock()
	left := r.m.faults.SendErrors
	r.m.mu.Unlock()
	if !slices.Equal(left, []int{38}) {
		t.Fatalf("send errors after unplug: %v", left)
	}
}
