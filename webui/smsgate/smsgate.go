// Package smsgate serves the SMSGate-compatible API (SMS Gateway for
// Android's "3rd-party" API) under /3rdparty/v1, so that clients written for
// it work unchanged: HTTP
// Basic auth with a token's name and secret, SMSGate's field and state
// names, and its errors as {"message": "..."}.
//
// What differs: the id answered by POST /message is ours (a client-chosen
// "id" is honoured as an idempotency key, not as the id to look up); there
// is no end-to-end encryption (isEncrypted is refused); simNumber is
// accepted and ignored (the dispatcher chooses the modem); priority is
// honoured (above 0 first, 100 and more past quiet hours and daily caps,
// clamped to -128..127);
// webhooks need a token with the admin scope.
package smsgate

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/webhook"
	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// What the handlers need from the core (*gateway.Service).
type core interface {
	Send(ctx context.Context, req gateway.SendRequest) (*gateway.SendResult, error)
	Message(ctx context.Context, viewer, id model.ID) (gateway.MessageDetail, error)
	Messages(ctx context.Context, viewer model.ID, q gateway.MessageQuery) (gateway.Paged[model.Message], error)
	Modems(ctx context.Context) []model.ModemStatus
	Ready(ctx context.Context) error
	QueueDepth() int
}

// Webhooks is what the webhook routes need from the webhook sender.
type Webhooks interface {
	Create(ctx context.Context, h model.Webhook) (model.Webhook, error)
	List(ctx context.Context, userID model.ID) ([]model.Webhook, error)
	Get(ctx context.Context, id model.ID) (model.Webhook, error)
	Delete(ctx context.Context, id model.ID) error
	ExportReceived(ctx context.Context, ms []model.Message) error
}

// Server is the /3rdparty/v1 handler set.
type Server struct {
	msgs   core
	health core
	hooks  Webhooks
	sh     *httpkit.Shared
	routes []httpkit.Route
}

// New builds the SMSGate API over the core and the webhook registry.
func New(c *gateway.Service, hooks Webhooks, sh *httpkit.Shared) *Server {
	return &Server{msgs: c, health: c, hooks: hooks, sh: sh}
}

// Routes lists the routes Mount registered, with their scopes.
func (s *Server) Routes() []httpkit.Route { return s.routes }

// basicAuth authenticates the token's name as login and its secret as
// password.
func (s *Server) basicAuth(c *gin.Context) {
	name, secret, ok := c.Request.BasicAuth()
	if !ok || secret == "" {
		c.Header("WWW-Authenticate", `Basic realm="gsmgate"`)
		s.smsgateFail(c, httpkit.ErrUnauthorized.With(nil, "use HTTP Basic auth with the token's name and secret"))
		return
	}
	u, t, err := s.sh.Auth.Authenticate(c.Request.Context(), secret)
	p := httpkit.TokenPrincipal(u, t)
	if err == nil && subtle.ConstantTimeCompare([]byte(p.TokenName), []byte(name)) != 1 {
		err = httpkit.ErrUnauthorized
	}
	if err != nil {
		c.Header("WWW-Authenticate", `Basic realm="gsmgate"`)
		s.smsgateFail(c, httpkit.ErrUnauthorized.With(nil, "the login (token name) or password (token secret) is wrong"))
		return
	}
	if d, ok := s.sh.Limits.Allow(p.TokenID, s.sh.Now()); !ok {
		c.Header("Retry-After", httpkit.RetryAfter(d.Seconds()))
		s.smsgateFail(c, httpkit.ErrRateLimited)
		return
	}
	httpkit.SetPrincipal(c, p)
	c.Next()
}

// smsgateFail answers in SMSGate's error shape, with our code beside it.
func (s *Server) smsgateFail(c *gin.Context, err error) {
	ae, known := httpkit.ErrorFor(err)
	if !known || ae.Status >= 500 {
		s.sh.Log.Error("smsgate: request failed", "path", c.Request.URL.Path, "error", err)
	}
	c.AbortWithStatusJSON(ae.Status, gin.H{"message": ae.Message, "code": ae.Code, "details": ae.Details})
}

func (s *Server) smsgateRequire(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !httpkit.PrincipalFrom(c).Has(scope) {
			s.smsgateFail(c, httpkit.ErrForbidden.With(nil, "this needs a token with the %q scope", scope))
			return
		}
		c.Next()
	}
}

// Mount registers /3rdparty/v1 on e.
func (s *Server) Mount(e *gin.Engine) {
	g := e.Group("/3rdparty/v1")
	g.GET("/health", s.sgHealth)
	authed := g.Group("", s.basicAuth)
	add := func(method, path, scope string, h gin.HandlerFunc) {
		s.routes = append(s.routes, httpkit.Route{Method: method, Path: "/3rdparty/v1" + path, Scope: scope})
		authed.Handle(method, path, s.smsgateRequire(scope), h)
	}
	add(http.MethodPost, "/message", httpkit.ScopeSend, s.sgSend)
	add(http.MethodGet, "/message/:id", httpkit.ScopeRead, s.sgMessageState)
	add(http.MethodGet, "/webhooks", httpkit.ScopeAdmin, s.sgWebhooks)
	add(http.MethodPost, "/webhooks", httpkit.ScopeAdmin, s.sgRegisterWebhook)
	add(http.MethodDelete, "/webhooks/:id", httpkit.ScopeAdmin, s.sgDeleteWebhook)
	add(http.MethodGet, "/devices", httpkit.ScopeRead, s.sgDevices)
	add(http.MethodPost, "/inbox/export", httpkit.ScopeRead, s.sgExport)
}

// Message is SMSGate's message request, in its old (message) and new
// (textMessage) forms.
type Message struct {
	ID          *string `json:"id"`
	Message     *string `json:"message"`
	TextMessage *struct {
		Text string `json:"text"`
	} `json:"textMessage"`
	DataMessage        json.RawMessage `json:"dataMessage"`
	PhoneNumbers       []string        `json:"phoneNumbers"`
	SimNumber          *int            `json:"simNumber"`
	WithDeliveryReport *bool           `json:"withDeliveryReport"`
	TTL                *int64          `json:"ttl"`
	ValidUntil         *time.Time      `json:"validUntil"`
	Priority           *int            `json:"priority"`
	IsEncrypted        bool            `json:"isEncrypted"`
	DeviceID           *string         `json:"deviceId"`
	ScheduleAt         *time.Time      `json:"scheduleAt"`
}

// Recipient and State are SMSGate's message state.
type Recipient struct {
	PhoneNumber string  `json:"phoneNumber"`
	State       string  `json:"state"`
	Error       *string `json:"error"`
}

type State struct {
	ID          string            `json:"id"`
	DeviceID    string            `json:"deviceId,omitempty"`
	State       string            `json:"state"`
	IsHashed    bool              `json:"isHashed"`
	IsEncrypted bool              `json:"isEncrypted"`
	Recipients  []Recipient       `json:"recipients"`
	States      map[string]string `json:"states,omitempty"`
}

// sgStateName maps our states to SMSGate's.
func sgStateName(st model.State) string {
	switch st {
	case model.StateQueued:
		return "Pending"
	case model.StateSubmitting:
		return "Processed"
	case model.StateSent:
		return "Sent"
	case model.StateDelivered:
		return "Delivered"
	default:
		return "Failed"
	}
}

// sgOverall is the state of a message with several recipients: the least
// advanced of them, Failed only when every recipient is finished and one
// failed.
func sgOverall(rs []Recipient) string {
	order := []string{"Pending", "Processed", "Sent", "Delivered"}
	best := len(order)
	failed := false
	for _, r := range rs {
		if r.State == "Failed" {
			failed = true
			continue
		}
		if i := slices.Index(order, r.State); i < best {
			best = i
		}
	}
	if best == len(order) {
		if failed {
			return "Failed"
		}
		return "Pending"
	}
	if failed && order[best] == "Delivered" {
		return "Failed"
	}
	return order[best]
}

// sgBind reads a JSON body into dst for the SMSGate routes, answering a
// bad one in SMSGate's error form. SMSGate clients add fields over time;
// unknown ones are ignored here (unlike bind for /api/v1) so that a newer
// client keeps working.
func (s *Server) sgBind(c *gin.Context, dst any) bool {
	body, err := httpkit.ReadBody(c.Request, s.sh.MaxBodyBytes)
	if err != nil {
		s.smsgateFail(c, err)
		return false
	}
	if err := json.Unmarshal(body, dst); err != nil {
		s.smsgateFail(c, httpkit.JSONError(body, 0, err))
		return false
	}
	return true
}

func (s *Server) sgSend(c *gin.Context) {
	if s.sh.Draining() {
		c.Header("Retry-After", "30")
		s.smsgateFail(c, httpkit.ErrShuttingDown)
		return
	}
	var m Message
	if !s.sgBind(c, &m) {
		return
	}
	text := ""
	switch {
	case m.TextMessage != nil:
		text = m.TextMessage.Text
	case m.Message != nil:
		text = *m.Message
	}
	switch {
	case m.IsEncrypted:
		s.smsgateFail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "isEncrypted"}, "encrypted messages are not supported"))
		return
	case len(m.DataMessage) > 0 && string(m.DataMessage) != "null":
		s.smsgateFail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "dataMessage"}, "data messages are not supported"))
		return
	case text == "":
		s.smsgateFail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "message"}, "give the text as textMessage.text or message"))
		return
	case len(m.PhoneNumbers) == 0:
		s.smsgateFail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "phoneNumbers"}, "phoneNumbers is required"))
		return
	}
	p := httpkit.PrincipalFrom(c)
	req := gateway.SendRequest{UserID: p.UserID, To: m.PhoneNumbers, Text: text, StatusReport: true}
	if m.WithDeliveryReport != nil {
		req.StatusReport = *m.WithDeliveryReport
	}
	if m.Priority != nil {
		req.Priority = max(-128, min(127, *m.Priority))
	}
	now := s.sh.Now()
	switch {
	case m.ValidUntil != nil:
		req.ExpiresAt = *m.ValidUntil
	case m.TTL != nil && *m.TTL > 0:
		req.ExpiresAt = now.Add(time.Duration(*m.TTL) * time.Second)
	}
	if m.ScheduleAt != nil {
		req.SendAt = *m.ScheduleAt
	}
	if m.ID != nil && *m.ID != "" {
		req.IdempotencyKey = "smsgate:" + *m.ID
	}
	res, err := s.msgs.Send(c.Request.Context(), req)
	if err != nil {
		s.smsgateFail(c, err)
		return
	}
	out := State{ID: res.BatchID.String(), DeviceID: res.Messages[0].Modem}
	for _, msg := range res.Messages {
		out.Recipients = append(out.Recipients, Recipient{PhoneNumber: msg.Number, State: sgStateName(msg.State)})
		s.sh.Accepted(1)
	}
	for _, re := range res.Rejected {
		e := re.Reason
		out.Recipients = append(out.Recipients, Recipient{PhoneNumber: re.Value, State: "Failed", Error: &e})
	}
	out.State = sgOverall(out.Recipients)
	httpkit.WriteJSON(c, http.StatusAccepted, out)
}

func (s *Server) sgMessageState(c *gin.Context) {
	id, err := model.ParseID(c.Param("id"))
	if err != nil {
		s.smsgateFail(c, httpkit.ErrNotFound.With(nil, "no message %q", c.Param("id")))
		return
	}
	v := httpkit.PrincipalFrom(c).UserID
	batch, err := s.msgs.Messages(c.Request.Context(), v, gateway.MessageQuery{Batch: id})
	ms := batch.Items
	if err == nil && len(ms) == 0 {
		// A single message's own id works too.
		var d gateway.MessageDetail
		if d, err = s.msgs.Message(c.Request.Context(), v, id); err == nil {
			ms = []model.Message{d.Message}
		}
	}
	if err != nil {
		s.smsgateFail(c, err)
		return
	}
	out := State{ID: id.String(), States: map[string]string{}}
	for _, m := range ms {
		r := Recipient{PhoneNumber: m.Number, State: sgStateName(m.State)}
		if m.Reason != "" && r.State == "Failed" {
			e := m.Reason
			r.Error = &e
		}
		out.Recipients = append(out.Recipients, r)
		out.DeviceID = m.Modem
		for st, t := range map[string]time.Time{"Pending": m.CreatedAt, "Sent": m.SentAt, "Delivered": m.DeliveredAt, "Failed": m.FailedAt} {
			if !t.IsZero() {
				out.States[st] = t.UTC().Format(time.RFC3339)
			}
		}
	}
	out.State = sgOverall(out.Recipients)
	httpkit.WriteJSON(c, http.StatusOK, out)
}

// Webhook is SMSGate's webhook: one event per registration.
type Webhook struct {
	ID       string `json:"id"`
	Event    string `json:"event"`
	URL      string `json:"url"`
	DeviceID string `json:"deviceId"`
}

func (s *Server) sgWebhooks(c *gin.Context) {
	hs, err := s.hooks.List(c.Request.Context(), 0)
	if err != nil {
		s.smsgateFail(c, err)
		return
	}
	out := []Webhook{}
	for _, h := range hs {
		for _, ev := range h.Events {
			if strings.HasPrefix(ev, "sms:") {
				out = append(out, Webhook{ID: h.ID.String(), Event: ev, URL: h.URL})
			}
		}
	}
	httpkit.WriteJSON(c, http.StatusOK, out)
}

func (s *Server) sgRegisterWebhook(c *gin.Context) {
	var r struct {
		ID       *string `json:"id"`
		Event    string  `json:"event"`
		URL      string  `json:"url"`
		DeviceID *string `json:"deviceId"`
	}
	if !s.sgBind(c, &r) {
		return
	}
	if n, ok := webhook.NativeName(r.Event); !ok || webhook.SMSGateName(n) != r.Event {
		s.smsgateFail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "event"},
			"event %q is not supported; use sms:received, sms:sent, sms:delivered or sms:failed", r.Event))
		return
	}
	h := model.Webhook{URL: r.URL, Events: []string{r.Event}}
	// Registering with an existing id replaces that webhook, as SMSGate does.
	if r.ID != nil && *r.ID != "" {
		if id, err := model.ParseID(*r.ID); err == nil {
			if _, err := s.hooks.Get(c.Request.Context(), id); err == nil {
				if err := s.hooks.Delete(c.Request.Context(), id); err != nil {
					s.smsgateFail(c, err)
					return
				}
				h.ID = id
			}
		}
	}
	created, err := s.hooks.Create(c.Request.Context(), h)
	if err != nil {
		s.smsgateFail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusCreated, Webhook{ID: created.ID.String(), Event: r.Event, URL: created.URL})
}

func (s *Server) sgDeleteWebhook(c *gin.Context) {
	id, err := model.ParseID(c.Param("id"))
	if err != nil {
		s.smsgateFail(c, httpkit.ErrNotFound.With(nil, "no webhook %q", c.Param("id")))
		return
	}
	if err := s.hooks.Delete(c.Request.Context(), id); err != nil {
		s.smsgateFail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type Device struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	LastSeen  time.Time `json:"lastSeen"`
	UpdatedAt time.Time `json:"updatedAt"`
	DeletedAt *string   `json:"deletedAt"`
}

func (s *Server) sgDevices(c *gin.Context) {
	out := []Device{}
	for _, m := range s.health.Modems(c.Request.Context()) {
		name := strings.TrimSpace(m.Model + " " + m.Number)
		if name == "" {
			name = m.Name
		}
		seen := m.UpdatedAt
		if seen.IsZero() {
			seen = s.sh.Now()
		}
		out = append(out, Device{ID: m.Name, Name: name, CreatedAt: seen, LastSeen: seen, UpdatedAt: seen})
	}
	httpkit.WriteJSON(c, http.StatusOK, out)
}

type Check struct {
	Status        string `json:"status"`
	Description   string `json:"description"`
	ObservedValue int    `json:"observedValue"`
	ObservedUnit  string `json:"observedUnit"`
}

// sgHealth is SMSGate's health document: pass when a modem is registered.
func (s *Server) sgHealth(c *gin.Context) {
	ms := s.health.Modems(c.Request.Context())
	registered := 0
	for _, m := range ms {
		if m.Registered {
			registered++
		}
	}
	status, code := "pass", http.StatusOK
	if err := s.health.Ready(c.Request.Context()); err != nil || s.sh.Draining() {
		status, code = "fail", http.StatusServiceUnavailable
	}
	httpkit.WriteJSON(c, code, gin.H{
		"status": status, "version": "gsmgate", "releaseId": 1,
		"checks": map[string]Check{
			"modems:registered": {Status: status, Description: "modems registered on a network", ObservedValue: registered, ObservedUnit: "modems"},
			"messages:queued":   {Status: "pass", Description: "message parts waiting to be sent", ObservedValue: s.health.QueueDepth(), ObservedUnit: "parts"},
		},
	})
}

// sgExport re-sends sms:received webhooks for the messages received
// between since and until, as SMSGate's inbox export does.
func (s *Server) sgExport(c *gin.Context) {
	var r struct {
		DeviceID string    `json:"deviceId"`
		Since    time.Time `json:"since"`
		Until    time.Time `json:"until"`
	}
	if !s.sgBind(c, &r) {
		return
	}
	if r.Since.IsZero() || r.Until.IsZero() || !r.Until.After(r.Since) {
		s.smsgateFail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "since"}, "give since and until, since before until"))
		return
	}
	// Newest first: page back until before since (at most maxExport).
	const maxExport = 10000
	var in []model.Message
	p := gateway.Page{Limit: 500}
	for len(in) < maxExport {
		pg, err := s.msgs.Messages(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, gateway.MessageQuery{Page: p})
		if err != nil {
			s.smsgateFail(c, err)
			return
		}
		next := pg.Next
		done := next == ""
		for _, m := range pg.Items {
			if m.CreatedAt.Before(r.Since) {
				done = true
				break
			}
			if m.Direction == model.Incoming && m.CreatedAt.Before(r.Until) && (r.DeviceID == "" || r.DeviceID == m.Modem) {
				in = append(in, m)
			}
		}
		if done {
			break
		}
		p.Cursor = next
	}
	if err := s.hooks.ExportReceived(c.Request.Context(), in); err != nil {
		s.smsgateFail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusAccepted, gin.H{"messages": len(in)})
}
