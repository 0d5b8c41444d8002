// Package webhook owns the delivery of gateway events to subscribers' URLs:
// turning the gateway's durable message event log into deliveries, fanning
// an event out to the webhooks that asked for it, persisting each delivery
// before trying it, signing the request, and retrying with exponential
// backoff until a 2xx answer or the maximum age (two days by default).
// Deliveries live in the gateway's store, so they survive restarts.
//
// Message events (received, sent, delivered, failed) are never taken from
// the bus: the store records them in its event log in the transaction that
// makes them happen, and Catchup turns log entries into deliveries and
// deletes them in one transaction, so a crash or a full bus buffer can delay
// an event but not lose it or enqueue it twice. The bus only wakes the
// sender early. modem.state, which changes no stored state, comes from the
// bus and is best-effort.
//
// It never decides who may see a message or what its state means: the
// gateway and the store do; this package maps an outcome to an event name
// and a JSON payload. It never talks HTTP to the API's clients, only to
// webhook receivers.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// The events a webhook can subscribe to, in our native names.
const (
	EventReceived  = "message.received"
	EventSent      = "message.sent"
	EventDelivered = "message.delivered"
	EventFailed    = "message.failed"
	EventModem     = "modem.state"
)

// Events lists every native event name.
func Events() []string {
	return []string{EventReceived, EventSent, EventDelivered, EventFailed, EventModem}
}

// SMSGate's event names, for webhooks registered through /3rdparty/v1. A
// webhook subscribed to one of these receives SMSGate's envelope.
var smsgateNames = map[string]string{
	EventReceived:  "sms:received",
	EventSent:      "sms:sent",
	EventDelivered: "sms:delivered",
	EventFailed:    "sms:failed",
}

// SMSGateName returns the SMSGate name of a native event ("" if none).
func SMSGateName(event string) string { return smsgateNames[event] }

// NativeName returns the native name of a native or SMSGate event name, and
// whether it is known.
func NativeName(event string) (string, bool) {
	if slices.Contains(Events(), event) {
		return event, true
	}
	for n, g := range smsgateNames {
		if g == event {
			return n, true
		}
	}
	return "", false
}

// Options tune the sender. Zero values take the stated defaults.
type Options struct {
	// Timeout is how long a receiver has to answer with a 2xx (10 s).
	Timeout time.Duration
	// MaxAge is how long a delivery is retried before it is failed (48 h).
	MaxAge time.Duration
	// FirstRetry is the first backoff delay (10 s); each retry doubles it
	// up to MaxDelay (1 h), with ±20 % jitter.
	FirstRetry, MaxDelay time.Duration
	// Workers is how many deliveries run at once (4).
	Workers int
	// Poll is how often due deliveries are looked for when nothing wakes
	// the sender (1 s); new events wake it at once.
	Poll time.Duration
	// Client is the HTTP client (default: one with Timeout).
	Client *http.Client
	// Now is the clock (time.Now).
	Now    func() time.Time
	Logger *slog.Logger
	// DeviceID names this gateway in SMSGate envelopes ("gsmgate").
	DeviceID string
}

// Sender fans events out to webhooks and delivers them.
type Sender struct {
	db   *store.DB
	o    Options
	wake chan struct{}
	// inflight holds deliveries being tried so a slow one is not picked up
	// again by the next poll.
	mu       sync.Mutex
	inflight map[model.ID]bool
}

// New returns a sender over the gateway's store. Call Run to deliver.
func New(db *store.DB, o Options) *Sender {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 48 * time.Hour
	}
	if o.FirstRetry <= 0 {
		o.FirstRetry = 10 * time.Second
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Hour
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Poll <= 0 {
		o.Poll = time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.Timeout}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.DeviceID == "" {
		o.DeviceID = "gsmgate"
	}
	return &Sender{db: db, o: o, wake: make(chan struct{}, 1), inflight: map[model.ID]bool{}}
}

// Envelope is the JSON body of a native delivery.
type Envelope struct {
	ID        string    `json:"id"`
	Event     string    `json:"event"`
	WebhookID string    `json:"webhook_id"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

// smsgateEnvelope is the body SMSGate's receivers expect.
type smsgateEnvelope struct {
	DeviceID  string `json:"deviceId"`
	Event     string `json:"event"`
	ID        string `json:"id"`
	Payload   any    `json:"payload"`
	WebhookID string `json:"webhookId"`
}

// Event is one thing to tell subscribers about. Data is the native payload;
// SMSGate, when set, is the payload for webhooks registered with SMSGate's
// event names (they are skipped when it is nil).
type Event struct {
	Name    string
	Data    any
	SMSGate any
	// UserIDs, when not empty, limits the event to webhooks owned by these
	// users (or by nobody, i.e. admin-wide webhooks).
	UserIDs []model.ID
	// OnlySMSGate skips the webhooks registered with native names.
	OnlySMSGate bool
}

// Enqueue persists one delivery per webhook subscribed to e and wakes the
// sender. It returns once the deliveries are committed. Message events do
// not come this way (Catchup reads them from the store's log); Enqueue is
// for what is not in the log: modem.state and SMSGate's inbox export.
func (s *Sender) Enqueue(ctx context.Context, e Event) error {
	hooks, err := s.webhooks()
	if err != nil {
		return fmt.Errorf("webhook: enqueue %s: %w", e.Name, err)
	}
	ds, err := s.deliveriesFor(hooks, e, 0)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		return nil
	}
	err = s.db.Update(func(tx *store.Tx) error {
		for i := range ds {
			if err := tx.EnqueueDelivery(&ds[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("webhook: persist %d deliveries of %s: %w", len(ds), e.Name, err)
	}
	s.Wake()
	return nil
}

// Wake makes Run look for due deliveries (and the event log) now.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// deliveriesFor builds one delivery per webhook subscribed to e (under its
// native or SMSGate name). With since not zero, only webhooks registered
// before since (an ID, so a time in the store's order) are considered: a
// webhook does not receive what happened before it existed.
func (s *Sender) deliveriesFor(hooks []model.Webhook, e Event, since model.ID) ([]model.WebhookDelivery, error) {
	now := s.o.Now().UTC()
	var ds []model.WebhookDelivery
	for _, h := range hooks {
		if since != 0 && h.ID > since {
			continue
		}
		if h.UserID != 0 && len(e.UserIDs) > 0 && !slices.Contains(e.UserIDs, h.UserID) {
			continue
		}
		for _, name := range h.Events {
			var body []byte
			var err error
			switch {
			case name == e.Name && !e.OnlySMSGate:
				body, err = json.Marshal(Envelope{Event: e.Name, WebhookID: h.ID.String(), CreatedAt: now, Data: e.Data})
			case name == smsgateNames[e.Name] && e.SMSGate != nil:
				body, err = json.Marshal(smsgateEnvelope{DeviceID: s.o.DeviceID, Event: name, WebhookID: h.ID.String(), Payload: e.SMSGate})
			default:
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("webhook: encode %s: %w", e.Name, err)
			}
			ds = append(ds, model.WebhookDelivery{
				WebhookID: h.ID, Event: name, Payload: body, State: model.DeliveryPending,
				NextAttempt: now, CreatedAt: now, UpdatedAt: now,
			})
		}
	}
	return ds, nil
}

// catchupBatch is how many log entries one Catchup transaction consumes:
// small enough that the transaction holds the write lock briefly and
// rewrites few pages.
const catchupBatch = 128

// Catchup turns the entries of the gateway's message event log into
// deliveries and returns how many entries it consumed. Each batch of
// entries is read, turned into deliveries and deleted from the log in ONE
// transaction, so an entry becomes deliveries exactly once: a crash before
// the commit leaves the entries for the next Catchup, after it leaves
// nothing to do twice; concurrent calls are serialised by the write lock
// and the second finds the entries gone. Run calls it at every turn and
// the bus bridge at every event, so it is rarely needed directly.
func (s *Sender) Catchup(ctx context.Context) (int, error) {
	total := 0
	for ctx.Err() == nil {
		var pending bool
		if err := s.db.View(func(tx *store.Tx) error { pending = tx.HasMessageEvents(); return nil }); err != nil {
			return total, fmt.Errorf("webhook: read the event log: %w", err)
		}
		if !pending {
			break
		}
		var n, deliveries, bad int
		err := s.db.Update(func(tx *store.Tx) error {
			n, deliveries = 0, 0
			es, last, b := tx.MessageEvents(catchupBatch)
			bad = b
			if last == 0 {
				return nil
			}
			hooks, err := tx.Webhooks()
			if err != nil {
				return err
			}
			for _, le := range es {
				for _, e := range logEvents(le) {
					ds, err := s.deliveriesFor(hooks, e, le.ID)
					if err != nil {
						// Not encodable now, not encodable ever: holding
						// the log up for it would stop every webhook.
						s.o.Logger.Error("webhook: event dropped", "event", e.Name, "message", le.Message.ID.String(), "error", err)
						continue
					}
					for i := range ds {
						if err := tx.EnqueueDelivery(&ds[i]); err != nil {
							return err
						}
					}
					deliveries += len(ds)
				}
			}
			n, err = tx.DeleteMessageEvents(last)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("webhook: consume the event log: %w", err)
		}
		if bad > 0 {
			s.o.Logger.Error("webhook: undecodable entries of the event log dropped", "count", bad)
		}
		total += n
		if deliveries > 0 {
			s.Wake()
		}
		if n < catchupBatch {
			break
		}
	}
	return total, nil
}

// logEvents maps a log entry to webhook events, as the bus carried it (see
// gateway.Service.PublishStatus): received; sent, delivered or failed.
func logEvents(le store.MessageEvent) []Event {
	m := le.Message
	var ge gateway.Event = &gateway.StatusChanged{At: le.At, Message: m, Previous: le.Previous}
	if le.Received() {
		ge = &gateway.MessageReceived{At: le.At, Message: m}
	}
	if e, ok := eventFor(ge); ok {
		return []Event{e}
	}
	return nil
}

// Run delivers due deliveries until ctx ends; deliveries in flight are
// allowed to finish (each is bounded by Timeout).
func (s *Sender) Run(ctx context.Context) error {
	sem := make(chan struct{}, s.o.Workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTicker(s.o.Poll)
	defer t.Stop()
	for {
		// The event log first: this is also how events whose bus doorbell
		// was missed (a full buffer, no bridge) become deliveries.
		if _, err := s.Catchup(ctx); err != nil && ctx.Err() == nil {
			s.o.Logger.Error("webhook: event log", "error", err)
		}
		var due []model.WebhookDelivery
		err := s.db.View(func(tx *store.Tx) error {
			var err error
			due, err = tx.DueDeliveries(s.o.Now(), s.o.Workers*4)
			return err
		})
		if err != nil && ctx.Err() == nil {
			s.o.Logger.Error("webhook: list due deliveries", "error", err)
		}
		hooks := map[model.ID]model.Webhook{}
		if len(due) > 0 {
			hs, err := s.webhooks()
			if err != nil && ctx.Err() == nil {
				s.o.Logger.Error("webhook: list webhooks", "error", err)
			}
			for _, h := range hs {
				hooks[h.ID] = h
			}
		}
		for _, d := range due {
			s.mu.Lock()
			busy := s.inflight[d.ID]
			if !busy {
				s.inflight[d.ID] = true
			}
			s.mu.Unlock()
			if busy {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			wg.Add(1)
			go func(d model.WebhookDelivery, h model.Webhook, ok bool) {
				defer wg.Done()
				defer func() { <-sem }()
				defer func() {
					s.mu.Lock()
					delete(s.inflight, d.ID)
					s.mu.Unlock()
				}()
				// due was read before this turn's checks of inflight: an
				// attempt that ended in between (recorded, then out of
				// inflight) left d stale, and sending it again would deliver
				// it twice. Only a delivery still as listed is attempted.
				if !s.stillDue(d) {
					return
				}
				// The attempt outlives a cancelled Run by at most Timeout, so
				// a shutdown does not record a half-made attempt as failed.
				s.attempt(context.WithoutCancel(ctx), d, h, ok)
			}(d, hooks[d.WebhookID], hooks[d.WebhookID].ID != 0)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-t.C:
		}
	}
}

// stillDue reports whether delivery d is still pending with the attempts
// it was listed with (no attempt was recorded since). A delivery that
// cannot be read is not attempted: the next turn lists it again if it
// is due.
func (s *Sender) stillDue(d model.WebhookDelivery) bool {
	var cur model.WebhookDelivery
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		cur, err = tx.Delivery(d.ID)
		return err
	})
	return err == nil && cur.State == model.DeliveryPending && cur.Attempts == d.Attempts
}

func (s *Sender) webhooks() ([]model.Webhook, error) {
	var hs []model.Webhook
	err := s.db.View(func(tx *store.Tx) error {
		var err error
		hs, err = tx.Webhooks()
		return err
	})
	return hs, err
}

// attempt tries one delivery once and records the outcome.
func (s *Sender) attempt(ctx context.Context, d model.WebhookDelivery, h model.Webhook, hookExists bool) {
	now := s.o.Now().UTC()
	var (
		ok      bool
		errText string
		next    time.Time
	)
	if !hookExists {
		errText = "the webhook was deleted"
	} else if err := s.post(ctx, h, d.Payload); err != nil {
		errText = err.Error()
		next = now.Add(s.backoff(d.Attempts + 1))
		if next.Sub(d.CreatedAt) > s.o.MaxAge {
			next = time.Time{}
			errText = fmt.Sprintf("gave up after %d attempts over %s: %v", d.Attempts+1, now.Sub(d.CreatedAt).Round(time.Second), err)
		}
	} else {
		ok = true
	}
	err := s.db.Update(func(tx *store.Tx) error {
		_, err := tx.MarkDeliveryAttempt(d.ID, ok, errText, next)
		return err
	})
	if err != nil {
		s.o.Logger.Error("webhook: record attempt", "delivery", d.ID.String(), "error", err)
	}
}

// backoff is the delay after the n-th failed attempt: FirstRetry doubled
// n-1 times, capped at MaxDelay, with ±20 % jitter so a receiver back from an
// outage is not hit by every delivery at once.
func (s *Sender) backoff(n int) time.Duration {
	d := s.o.FirstRetry
	for i := 1; i < n && d < s.o.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, s.o.MaxDelay)
	j := time.Duration(float64(d) * (rand.Float64()*0.4 - 0.2))
	return d + j
}

// post sends one signed request and wants a 2xx within Timeout.
func (s *Sender) post(ctx context.Context, h model.Webhook, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, s.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: build request: %w", err)
	}
	ts := s.o.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gsmgate-webhook/1")
	req.Header.Set("X-Timestamp", strconv.FormatInt(ts, 10))
	if h.Secret != "" {
		req.Header.Set("X-Signature", Sign(h.Secret, ts, body))
	}
	resp, err := s.o.Client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST %s: %w", h.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("POST %s: answered %s", h.URL, resp.Status)
	}
	return nil
}

// Sign returns the X-Signature of a delivery: the lower-case hex
// HMAC-SHA256, keyed with the webhook's secret, of the body followed by the
// decimal X-Timestamp (the order SMSGate's receivers verify). A receiver
// recomputes it and also rejects timestamps far from its clock, which stops
// replays.
func Sign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature made by Sign, in constant time.
func Verify(secret string, ts int64, body []byte, sig string) bool {
	want, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	return hmac.Equal(m.Sum(nil), want)
}
