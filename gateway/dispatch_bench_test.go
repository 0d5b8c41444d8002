package gateway

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/modem/sim"
)

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return s[i]
}

// BenchmarkDispatchIdleGap measures the dispatcher's idle time on a modem:
// from the moment one part's AT+CMGS is answered (+CMGS: <mr> returned by
// the driver) to the moment the next part is handed to the driver. In
// between, the part is committed "sent" and the next one "submitting" in one
// bbolt transaction (fsynced). Messages of three parts, queued before the
// gateway starts, one modem over a pty.
//
// Two ways: direct (+CMGS) and store_and_send, whose gap also holds the
// delete of the sent part's copy (+CMGD), the next part's +CMGW and the
// commit of its slot: the extra time store-and-send costs per part.
func BenchmarkDispatchIdleGap(b *testing.B) {
	for _, mode := range []string{"direct", "store_and_send"} {
		b.Run(mode, func(b *testing.B) { benchmarkDispatchIdleGap(b, mode == "direct") })
	}
}

func benchmarkDispatchIdleGap(b *testing.B, direct bool) {
	r := newMRig(b, 1, "pty", sim.ModemOptions{Latency: time.Millisecond})
	r.direct = direct
	var ids []model.ID
	for i := range b.N {
		ids = append(ids, r.send(threeParts(fmt.Sprintf("bench %d ", i)), false, recipient)[0].ID)
	}
	b.ResetTimer()
	r.start(ModemOptions{})
	last := ids[len(ids)-1]
	deadline := time.Now().Add(10 * time.Minute)
	for {
		m, _ := r.message(last)
		if m.State == model.StateSent || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.StopTimer()
	r.rec.mu.Lock()
	gaps := slices.Clone(r.rec.gaps)
	r.rec.mu.Unlock()
	b.ReportMetric(float64(percentile(gaps, 0.5).Microseconds()), "gap-p50-µs")
	b.ReportMetric(float64(percentile(gaps, 0.99).Microseconds()), "gap-p99-µs")
	b.ReportMetric(float64(percentile(gaps, 1).Microseconds()), "gap-max-µs")
	b.ReportMetric(float64(len(gaps)), "gaps")
}

// BenchmarkInboxCMTIToEvent measures the time from the virtual modem's
// +CMTI (the network stores the SMS and indicates it) to the
// MessageReceived event on the bus: the driver reads the PDU (AT+CMGR),
// the inbox commits it (fsync), the event is published. One modem over a
// pty, one SMS at a time.
func BenchmarkInboxCMTIToEvent(b *testing.B) {
	r := newMRig(b, 1, "pty", sim.ModemOptions{})
	r.start(ModemOptions{})
	sub := r.s.Bus().Subscribe(64, func(e Event) bool { _, ok := e.(*MessageReceived); return ok })
	defer sub.Close()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		if _, err := r.net.Inbound(r.sims[0], sim.InboundSMS{From: fmt.Sprintf("+4477009%06d", i%1000000), Text: "bench"}); err != nil {
			b.Fatal(err)
		}
		select {
		case <-sub.C:
			lat = append(lat, time.Since(t0))
		case <-time.After(10 * time.Second):
			b.Fatal("no event in 10 s")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(percentile(lat, 1).Microseconds()), "max-µs")
}

// BenchmarkSendToWire measures, with the modem idle, the time from calling
// Send to the dispatcher handing the part to the driver (AT+CMGS is
// written next): Send's own commit, the wake-up, the claim (another
// commit). One modem over a pty, one message at a time.
func BenchmarkSendToWire(b *testing.B) {
	r := newMRig(b, 1, "pty", sim.ModemOptions{Latency: time.Millisecond})
	r.start(ModemOptions{})
	started := make(chan time.Time, 1)
	r.rec.mu.Lock()
	r.rec.started = started
	r.rec.mu.Unlock()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		t0 := time.Now()
		m := r.send(fmt.Sprintf("to the wire %d", i), false, recipient)[0]
		select {
		case t1 := <-started:
			lat = append(lat, t1.Sub(t0))
		case <-time.After(10 * time.Second):
			b.Fatal("not sent in 10 s")
		}
		for {
			if got, _ := r.message(m.ID); got.State == model.StateSent {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(percentile(lat, 0.5).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
}
