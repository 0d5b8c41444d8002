package ui

import (
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/webui/chart"
)

// The modems dashboard: each modem's identity, SIM, network, signal,
// state and last error, its health in plain words with what to do, and
// two charts drawn on the server (signal over 24 hours, messages per day
// over 30 days). The page's script reloads the panel (modems fragment)
// when a modem event arrives and every minute.

type modemCard struct {
	gateway.ModemPanel
	SignalChart template.HTML
	DaysChart   template.HTML
	Sent30      int
	Failed30    int
	Received30  int
}

type modemsData struct {
	Modems     []modemCard
	QueueDepth int
	At         time.Time
}

func (h *Handler) modemsData(c *gin.Context) (modemsData, bool) {
	d, err := h.admin.ModemDashboard(c.Request.Context(), actorOf(c))
	if err != nil {
		h.fail(c, err)
		return modemsData{}, false
	}
	out := modemsData{QueueDepth: d.QueueDepth, At: d.At}
	for _, p := range d.Modems {
		out.Modems = append(out.Modems, cardOf(p, d.At))
	}
	return out, true
}

// cardOf draws a modem's charts. chart escapes every label, so its SVG
// text is safe to put in the page as markup.
func cardOf(p gateway.ModemPanel, now time.Time) modemCard {
	mc := modemCard{ModemPanel: p}
	pts := make([]chart.Point, 0, len(p.Signal))
	for _, s := range p.Signal {
		pts = append(pts, chart.Point{At: s.At, Y: float64(s.DBm), Gap: s.DBm == 0})
	}
	sig := chart.Line{Title: fmt.Sprintf("Signal of %s over the last 24 hours", p.Status.Name), Width: 520, Height: 150,
		From: now.Add(-gateway.SignalWindow), To: now, YMin: -113, YMax: -51, YTicks: []float64{-110, -90, -70},
		YUnit: "", XTicks: 6 * time.Hour, XFormat: "15:04", Points: pts, Empty: "no signal samples yet"}
	var cats []string
	sent, deliv, failed, recv := make([]int, 0, len(p.Days)), make([]int, 0, len(p.Days)), make([]int, 0, len(p.Days)), make([]int, 0, len(p.Days))
	for _, d := range p.Days {
		t, _ := time.Parse(time.DateOnly, d.Day)
		cats = append(cats, t.Format("2 Jan"))
		sent, deliv, failed, recv = append(sent, d.Sent), append(deliv, d.Delivered), append(failed, d.Failed), append(recv, d.Received)
		mc.Sent30 += d.Sent
		mc.Failed30 += d.Failed
		mc.Received30 += d.Received
	}
	days := chart.Bars{Title: fmt.Sprintf("Messages per day on %s, last 30 days", p.Status.Name), Width: 520, Height: 150,
		Categories: cats, LabelEvery: 7, Empty: "no messages in 30 days",
		Series: []chart.Series{{Name: "sent", Values: sent}, {Name: "delivered", Values: deliv}, {Name: "failed", Values: failed}, {Name: "received", Values: recv}}}
	mc.SignalChart = template.HTML(sig.SVG())
	mc.DaysChart = template.HTML(days.SVG())
	return mc
}

func (h *Handler) adminModemsPage(c *gin.Context) {
	d, ok := h.modemsData(c)
	if !ok {
		return
	}
	if c.Query("fragment") == "1" {
		h.renderRaw(c, http.StatusOK, "admin-modems", "modems-panel", d)
		return
	}
	h.render(c, http.StatusOK, "admin-modems", "Modems", d)
}
