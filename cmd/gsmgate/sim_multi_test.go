package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/modem"
)

// `gsmgate sim --modems 2` serves two modems with their own IMEI and
// number, both of which a modem pool takes (it refuses a second port with
// an IMEI it knows as the same modem), and each is driven through its own
// control path.
func TestSimServesSeveralModems(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- simMain(ctx, []string{"--modems", "2", "--number", "+447700900199", "--listen", "tcp://127.0.0.1:0", "--control", "127.0.0.1:0", "--latency", "none"}, pw, &errb, nil)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	var tcp, numbers, imeis []string
	control := ""
	for len(numbers) < 2 && lines.Scan() {
		f := strings.Fields(lines.Text())
		switch f[0] {
		case "tcp":
			tcp = append(tcp, "tcp://"+f[1])
		case "control":
			control = f[1]
		case "modem":
			numbers, imeis = append(numbers, f[1]), append(imeis, f[5])
		}
	}
	go io.Copy(io.Discard, pr)
	if len(tcp) != 2 || tcp[0] == tcp[1] || control == "" {
		t.Fatalf("printed tcp %v control %q (stderr %s)", tcp, control, errb.String())
	}
	if numbers[0] != "+447700900199" || numbers[1] != "+447700900200" || imeis[0] == imeis[1] {
		t.Fatalf("modems %v with IMEIs %v: want two numbers counting up and two IMEIs", numbers, imeis)
	}

	pool := modem.NewPool(modem.PoolConfig{Modem: modem.Config{CommandTimeout: 5 * time.Second, ProbeInterval: time.Second}}, slog.New(slog.DiscardHandler))
	for _, p := range tcp {
		if err := pool.Add(modem.Config{Port: p}); err != nil {
			t.Fatal(err)
		}
	}
	go pool.Run(ctx)
	deadline := time.Now().Add(15 * time.Second)
	for {
		ready := map[string]bool{}
		for _, st := range pool.Modems() {
			if st.State == modem.StateReady {
				ready[st.ID] = true
			}
		}
		if ready[imeis[0]] && ready[imeis[1]] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pool did not take both modems: %+v", pool.Modems())
		}
		time.Sleep(20 * time.Millisecond)
	}

	for i, want := range imeis {
		resp, err := http.Get(control + "/modems/" + string(rune('1'+i)) + "/modem")
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if v["imei"] != want {
			t.Errorf("control /modems/%d/modem says IMEI %v, want %s", i+1, v["imei"], want)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

func TestSimCountUp(t *testing.T) {
	cases := []struct {
		first string
		n     int
		want  string
		err   bool
	}{
		{"+447700900123", 3, "+447700900123 +447700900124 +447700900125", false},
		{"+44770090099", 2, "+44770090099 +44770090100", false},
		{"99", 2, "", true},
		{"+44x", 1, "", true},
	}
	for _, tc := range cases {
		got, err := countUp(tc.first, tc.n)
		if (err != nil) != tc.err || strings.Join(got, " ") != tc.want {
			t.Errorf("countUp(%q, %d) = %v, %v; want %q (error %v)", tc.first, tc.n, got, err, tc.want, tc.err)
		}
	}
}
