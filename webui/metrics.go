package webui

import (
	"context"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the Prometheus series on /metrics. Gauges are read from the
// gateway at scrape time (so they are never stale); counters and the latency
// histogram are fed from the event bus by RunMetrics.
type metrics struct {
	accepted prometheus.Counter
	outcomes *prometheus.CounterVec
	latency  prometheus.Histogram
	dropped  prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, gw health, hooks backlog) *metrics {
	m := &metrics{
		accepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gsmgate_messages_accepted_total", Help: "Messages (one per recipient) accepted by the API.",
		}),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gsmgate_messages_total",
			Help: "Messages by outcome: sent, delivered, failed, unknown, expired, cancelled, received.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gsmgate_send_latency_seconds",
			Help:    "Time from a message's acceptance to the modem's +CMGS answer for its last part.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800},
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gsmgate_metrics_events_dropped_total", Help: "Bus events the metrics subscriber missed because it was behind.",
		}),
	}
	for _, o := range []string{"sent", "delivered", "failed", "unknown", "expired", "cancelled", "received"} {
		m.outcomes.WithLabelValues(o)
	}
	reg.MustRegister(m.accepted, m.outcomes, m.latency, m.dropped, &gaugeCollector{gw: gw, hooks: hooks})
	// A registry handed in by the caller may already carry these.
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

var (
	descQueue = prometheus.NewDesc("gsmgate_queue_depth", "Message parts waiting to be sent.", nil, nil)
	descSig   = prometheus.NewDesc("gsmgate_modem_signal_dbm", "Modem received signal strength in dBm (0 when unknown).", []string{"modem"}, nil)
	descBars  = prometheus.NewDesc("gsmgate_modem_signal_bars", "Modem signal as 0..5 bars.", []string{"modem"}, nil)
	descReg   = prometheus.NewDesc("gsmgate_modem_registered", "1 when the modem is registered on a network.", []string{"modem", "registration"}, nil)
	descLease = prometheus.NewDesc("gsmgate_modem_leased", "1 while the dispatcher holds the modem to send (the outbox is one queue for all modems: see gsmgate_queue_depth).", []string{"modem"}, nil)
	descFull  = prometheus.NewDesc("gsmgate_storage_full", "1 while the disk holding the database is full: new messages are refused (507), incoming ones wait on the modems.", nil, nil)
	descFallb = prometheus.NewDesc("gsmgate_store_send_fallbacks_total", "Parts claimed for store-and-send that went by AT+CMGS instead since the start, by modem and reason (storage_full, refused, not_storing): a crash during such a send leaves its outcome unknown.", []string{"modem", "reason"}, nil)
	descHooks = prometheus.NewDesc("gsmgate_webhook_backlog", "Webhook deliveries not yet made.", nil, nil)
)

// gaugeCollector reads the current values at scrape time.
type gaugeCollector struct {
	gw    health
	hooks backlog
}

// health is what the gauges read from the core.
type health interface {
	Modems(ctx context.Context) []model.ModemStatus
	QueueDepth() int
	StorageFull() (bool, time.Time)
}

// backlog is what the gauges read from the webhook sender.
type backlog interface{ Backlog() int }

func (g *gaugeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descQueue, descSig, descBars, descReg, descLease, descFallb, descFull, descHooks} {
		ch <- d
	}
}

func (g *gaugeCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(g.gw.QueueDepth()))
	full := 0.0
	if f, _ := g.gw.StorageFull(); f {
		full = 1
	}
	ch <- prometheus.MustNewConstMetric(descFull, prometheus.GaugeValue, full)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, m := range g.gw.Modems(ctx) {
		ch <- prometheus.MustNewConstMetric(descSig, prometheus.GaugeValue, float64(m.SignalDBm), m.Name)
		ch <- prometheus.MustNewConstMetric(descBars, prometheus.GaugeValue, float64(m.SignalBars), m.Name)
		reg := 0.0
		if m.Registered {
			reg = 1
		}
		ch <- prometheus.MustNewConstMetric(descReg, prometheus.GaugeValue, reg, m.Name, m.Registration)
		leased := 0.0
		if m.Leased {
			leased = 1
		}
		ch <- prometheus.MustNewConstMetric(descLease, prometheus.GaugeValue, leased, m.Name)
		for reason, n := range m.DirectFallbacks {
			ch <- prometheus.MustNewConstMetric(descFallb, prometheus.CounterValue, float64(n), m.Name, reason)
		}
	}
	ch <- prometheus.MustNewConstMetric(descHooks, prometheus.GaugeValue, float64(g.hooks.Backlog()))
}

// RunMetrics feeds the outcome counters and the latency histogram from the
// bus until ctx ends.
func (s *Server) RunMetrics(ctx context.Context) {
	sub := s.core.Subscribe(gateway.Everyone)
	defer sub.Close()
	var dropped uint64
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			s.metrics.observe(e)
			if d := sub.Dropped(); d > dropped {
				s.metrics.dropped.Add(float64(d - dropped))
				dropped = d
			}
		}
	}
}

func (m *metrics) observe(e gateway.Event) {
	switch e := e.(type) {
	case *gateway.MessageReceived:
		m.outcomes.WithLabelValues("received").Inc()
	case *gateway.StatusChanged:
		msg := e.Message
		switch e.EventName() {
		case gateway.EventMessageSent:
			m.outcomes.WithLabelValues("sent").Inc()
			if !msg.SentAt.IsZero() && msg.SentAt.After(msg.CreatedAt) {
				m.latency.Observe(msg.SentAt.Sub(msg.CreatedAt).Seconds())
			}
		case gateway.EventMessageDelivered:
			m.outcomes.WithLabelValues("delivered").Inc()
		case gateway.EventMessageFailed:
			if !e.Previous.IsFailure() {
				m.outcomes.WithLabelValues(string(msg.State)).Inc() // failed, unknown or expired
			}
		case gateway.EventMessageCancelled:
			m.outcomes.WithLabelValues("cancelled").Inc()
		}
	}
}
