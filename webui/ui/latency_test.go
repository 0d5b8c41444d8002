package ui_test

import (
	"fmt"
	"github.com/gsmgate/gsmgate/gateway/model"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestToastLatency measures the time from the network delivering an SMS
// to the virtual modem (+CMTI) to the toast on the page: the modem's
// indication, AT+CMGR, the commit, the bus, the event stream and the
// page's script. It needs GSMGATE_BENCH=1 (no timing is asserted).
//
//	GSMGATE_BENCH=1 go test -run TestToastLatency -v ./webui/ui/
func TestToastLatency(t *testing.T) {
	if os.Getenv("GSMGATE_BENCH") == "" {
		t.Skip("set GSMGATE_BENCH=1 to measure")
	}
	s := theStack
	u, pw := s.user(t, "lat", model.VisibilityAll, model.RoleStaff)
	const peer = "+447911123600"
	m := s.send(t, u, "hello", peer)
	s.waitState(t, u, m[0].ID, "delivered")
	tb := s.tab(t, 1280, 800)
	tb.login("lat", pw)
	tb.waitJS("the live stream", `document.body.dataset.live === '1'`)
	var ds []time.Duration
	for i := range 30 {
		start := time.Now()
		s.inbound(t, peer, fmt.Sprintf("ping %d", i))
		tb.waitJS("toast", fmt.Sprintf(`document.querySelectorAll('[data-testid=toast]').length > 0 && Array.from(document.querySelectorAll('[data-testid=toast]')).some(e => e.textContent.includes('ping %d'))`, i))
		at := eval[string](tb, fmt.Sprintf(`Array.from(document.querySelectorAll('[data-testid=toast]')).find(e => e.textContent.includes('ping %d')).dataset.shownAt`, i))
		ms, err := strconv.ParseInt(at, 10, 64)
		must(t, err)
		ds = append(ds, time.UnixMilli(ms).Sub(start))
		eval[bool](tb, `(document.querySelectorAll('[data-testid=toast]').forEach(e => e.remove()), true)`)
	}
	slices.Sort(ds)
	t.Logf("+CMTI to toast over %d SMS: median %v, p95 %v, max %v", len(ds), ds[len(ds)/2], ds[len(ds)*95/100], ds[len(ds)-1])
}
