package webui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// recipients is the "to" field: one number or an array of numbers.
type recipients []string

func (r *recipients) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = recipients{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil || (len(b) > 0 && b[0] != '[') {
		return ErrInvalidField.With(map[string]string{"field": "to"}, `field "to": want a phone number or an array of phone numbers`)
	}
	*r = ss
	return nil
}

// sendBody is the JSON of POST /api/v1/messages.
type sendBody struct {
	To           recipients    `json:"to"`
	Text         *string       `json:"text"`
	User         string        `json:"user"`
	Ref          *store.CRMRef `json:"ref"`
	StatusReport bool          `json:"status_report"`
	SendAt       *time.Time    `json:"send_at"`
	ExpiresAt    *time.Time    `json:"expires_at"`
	// Priority above 0 goes before every other message, below 0 after
	// bulk sends; 100 and more also pass quiet hours and daily caps.
	Priority *int `json:"priority"`
	// Campaign names a bulk send (several recipients).
	Campaign string `json:"campaign"`
}

// validate checks what can be checked without the gateway.
func (b *sendBody) validate(o Options, now time.Time) error {
	if len(b.To) == 0 {
		return ErrInvalidField.With(map[string]string{"field": "to"}, `field "to" is required: a phone number or an array of them`)
	}
	if len(b.To) > o.MaxRecipients {
		return ErrTooManyRecipient.With(map[string]int{"limit": o.MaxRecipients, "got": len(b.To)},
			"%d recipients in one request; the limit is %d", len(b.To), o.MaxRecipients)
	}
	if b.Text == nil || *b.Text == "" {
		return ErrInvalidField.With(map[string]string{"field": "text"}, `field "text" is required and must not be empty`)
	}
	if b.Priority != nil && (*b.Priority < -128 || *b.Priority > 127) {
		return ErrInvalidField.With(map[string]string{"field": "priority"}, `field "priority" must be between -128 and 127`)
	}
	if len(b.Campaign) > 200 {
		return ErrInvalidField.With(map[string]string{"field": "campaign"}, `field "campaign" is longer than 200 characters`)
	}
	if !utf8.ValidString(*b.Text) {
		return ErrInvalidField.With(map[string]string{"field": "text"}, `field "text" is not valid UTF-8`)
	}
	if n := utf8.RuneCountInString(*b.Text); n > o.MaxTextChars {
		return ErrTextTooLong.With(map[string]int{"limit": o.MaxTextChars, "got": n},
			"the text has %d characters; the limit is %d", n, o.MaxTextChars)
	}
	if b.Ref != nil && (b.Ref.Type == "" || b.Ref.ID == "") {
		return ErrInvalidField.With(map[string]string{"field": "ref"}, `field "ref" needs both "type" and "id"`)
	}
	if b.ExpiresAt != nil {
		if !b.ExpiresAt.After(now) {
			return ErrInvalidField.With(map[string]string{"field": "expires_at"}, `field "expires_at" is in the past`)
		}
		if b.SendAt != nil && !b.ExpiresAt.After(*b.SendAt) {
			return ErrInvalidField.With(map[string]string{"field": "expires_at"}, `field "expires_at" must be after "send_at"`)
		}
	}
	return nil
}

// messageView is a message as the API shows it.
type messageView struct {
	ID           string        `json:"id"`
	BatchID      string        `json:"batch_id,omitempty"`
	Direction    string        `json:"direction"`
	Number       string        `json:"number"`
	Text         string        `json:"text,omitempty"`
	Data         []byte        `json:"data,omitempty"`
	Encoding     string        `json:"encoding,omitempty"`
	Parts        int           `json:"parts"`
	State        store.State   `json:"state"`
	Error        string        `json:"error,omitempty"`
	UserID       string        `json:"user_id,omitempty"`
	Marketing    bool          `json:"marketing"`
	StatusReport bool          `json:"status_report"`
	Ref          *store.CRMRef `json:"ref,omitempty"`
	Modem        string        `json:"modem,omitempty"`
	Attempts     int           `json:"attempts"`
	Incomplete   bool          `json:"incomplete,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
	SendAt       time.Time     `json:"send_at,omitzero"`
	ExpiresAt    time.Time     `json:"expires_at,omitzero"`
	SentAt       time.Time     `json:"sent_at,omitzero"`
	DeliveredAt  time.Time     `json:"delivered_at,omitzero"`
	FailedAt     time.Time     `json:"failed_at,omitzero"`
	PartStates   []partView    `json:"part_states,omitempty"`
}

type partView struct {
	Seq         int         `json:"seq"`
	State       store.State `json:"state"`
	Modem       string      `json:"modem,omitempty"`
	MR          *int        `json:"mr,omitempty"`
	Attempts    int         `json:"attempts"`
	Error       string      `json:"error,omitempty"`
	SentAt      time.Time   `json:"sent_at,omitzero"`
	DeliveredAt time.Time   `json:"delivered_at,omitzero"`
}

func viewMessage(m store.Message, parts []store.Part) messageView {
	v := messageView{
		ID: m.ID.String(), Direction: string(m.Direction), Number: m.Number, Text: m.Text, Data: m.Data,
		Encoding: m.Encoding, Parts: m.Parts, State: m.State, Error: m.Reason, Marketing: m.Marketing,
		StatusReport: m.StatusReport, Ref: m.CRM, Modem: m.Modem, Attempts: m.Attempts, Incomplete: m.Incomplete,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, SendAt: m.SendAt, ExpiresAt: m.ExpiresAt,
		SentAt: m.SentAt, DeliveredAt: m.DeliveredAt, FailedAt: m.FailedAt,
	}
	if m.BatchID != 0 {
		v.BatchID = m.BatchID.String()
	}
	if m.UserID != 0 {
		v.UserID = m.UserID.String()
	}
	for _, p := range parts {
		pv := partView{Seq: p.Seq, State: p.State, Modem: p.Modem, Attempts: p.Attempts, Error: p.Error, SentAt: p.SentAt, DeliveredAt: p.DeliveredAt}
		if p.MR >= 0 && !p.SentAt.IsZero() {
			mr := p.MR
			pv.MR = &mr
		}
		v.PartStates = append(v.PartStates, pv)
	}
	return v
}

func viewMessages(ms []store.Message) []messageView {
	out := make([]messageView, 0, len(ms))
	for _, m := range ms {
		out = append(out, viewMessage(m, nil))
	}
	return out
}

// sendResponse is the 202 answer of POST /api/v1/messages.
type sendResponse struct {
	BatchID  string           `json:"batch_id"`
	Replayed bool             `json:"replayed"`
	Messages []sentView       `json:"messages"`
	Errors   []RecipientError `json:"errors"`
}

type sentView struct {
	ID       string      `json:"id"`
	To       string      `json:"to"`
	State    store.State `json:"state"`
	Encoding string      `json:"encoding"`
	Parts    int         `json:"parts"`
}

const maxIdempotencyKey = 200

func (s *Server) postMessages(c *gin.Context) {
	if s.draining.Load() {
		c.Header("Retry-After", "30")
		s.fail(c, ErrShuttingDown)
		return
	}
	var body sendBody
	if !s.bind(c, &body) {
		return
	}
	if err := body.validate(s.opts, s.now()); err != nil {
		s.fail(c, err)
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		s.fail(c, ErrBadRequest.With(nil, "the Idempotency-Key header is longer than %d characters", maxIdempotencyKey))
		return
	}
	p := principal(c)
	req := SendRequest{
		UserID: p.UserID, To: body.To, Text: *body.Text, CRM: body.Ref,
		StatusReport: body.StatusReport, IdempotencyKey: key, Campaign: body.Campaign,
	}
	if body.Priority != nil {
		req.Priority = *body.Priority
	}
	if body.User != "" && !strings.EqualFold(body.User, p.User) {
		if !p.Admin {
			s.fail(c, ErrForbidden.With(map[string]string{"field": "user"}, "only an admin's token may send as another user"))
			return
		}
		u, err := s.gw.UserByName(c.Request.Context(), body.User)
		if err != nil {
			s.fail(c, ErrInvalidField.With(map[string]string{"field": "user"}, "no user named %q", body.User))
			return
		}
		req.UserID = u.ID
	}
	if body.SendAt != nil {
		req.SendAt = *body.SendAt
	}
	if body.ExpiresAt != nil {
		req.ExpiresAt = *body.ExpiresAt
	}
	res, err := s.gw.Send(c.Request.Context(), req)
	if err != nil {
		s.fail(c, err)
		return
	}
	if res.Errors == nil {
		res.Errors = []RecipientError{}
	}
	if len(res.Messages) == 0 {
		s.fail(c, ErrNoRecipients.With(res.Errors, "none of the %d recipients can be used", len(body.To)))
		return
	}
	out := sendResponse{BatchID: res.BatchID.String(), Replayed: res.Replayed, Errors: res.Errors}
	for _, m := range res.Messages {
		out.Messages = append(out.Messages, sentView{ID: m.ID.String(), To: m.Number, State: m.State, Encoding: m.Encoding, Parts: m.Parts})
		if !res.Replayed {
			s.metrics.accepted.Inc()
		}
	}
	if res.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	writeJSON(c, http.StatusAccepted, out)
}

func pathID(c *gin.Context) (store.ID, error) {
	id, err := store.ParseID(c.Param("id"))
	if err != nil {
		return 0, ErrNotFound.With(map[string]string{"id": c.Param("id")}, "no message %q (ids are 16 hex digits)", c.Param("id"))
	}
	return id, nil
}

func (s *Server) getMessage(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	m, parts, err := s.gw.Message(c.Request.Context(), principal(c).viewer(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, viewMessage(m, parts))
}

// page reads cursor and limit (1..500, default 50).
func page(c *gin.Context) (Page, error) {
	p := Page{Cursor: c.Query("cursor"), Limit: 50}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return p, ErrInvalidField.With(map[string]string{"field": "limit"}, "limit must be a whole number from 1 to 500, not %q", l)
		}
		p.Limit = n
	}
	return p, nil
}

type listResponse[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func (s *Server) listMessages(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	q := MessageQuery{Page: p, State: store.State(c.Query("state"))}
	if q.State != "" && !q.State.Valid() {
		s.fail(c, ErrInvalidField.With(map[string]string{"field": "state"},
			"state must be one of queued, submitting, sent, delivered, failed, unknown, cancelled, expired; not %q", q.State))
		return
	}
	if n := c.Query("number"); n != "" {
		e164, err := s.gw.Normalize(n)
		if err != nil {
			s.fail(c, ErrInvalidNumber.With(map[string]string{"number": n}, "%q is not a phone number: %v", n, err))
			return
		}
		q.Number = e164
	}
	if since := c.Query("since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			s.fail(c, ErrInvalidField.With(map[string]string{"field": "since"}, "since must be an RFC 3339 time like 2026-01-02T15:04:05Z, not %q", since))
			return
		}
		q.Since = t
	}
	ms, next, err := s.gw.Messages(c.Request.Context(), principal(c).viewer(), q)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, listResponse[messageView]{Items: viewMessages(ms), NextCursor: next})
}

func (s *Server) retryMessage(c *gin.Context) {
	if s.draining.Load() {
		s.fail(c, ErrShuttingDown)
		return
	}
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	m, err := s.gw.Retry(c.Request.Context(), principal(c).viewer(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusAccepted, viewMessage(m, nil))
}

func (s *Server) cancelMessage(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	m, err := s.gw.Cancel(c.Request.Context(), principal(c).viewer(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, viewMessage(m, nil))
}

func (s *Server) listFailures(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ms, next, err := s.gw.Failures(c.Request.Context(), principal(c).viewer(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, listResponse[messageView]{Items: viewMessages(ms), NextCursor: next})
}
