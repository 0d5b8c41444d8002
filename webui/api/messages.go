package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/httpkit"
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
		return httpkit.ErrInvalidField.With(map[string]string{"field": "to"}, `field "to": want a phone number or an array of phone numbers`)
	}
	*r = ss
	return nil
}

// sendBody is the JSON of POST /api/v1/messages.
type sendBody struct {
	To           recipients    `json:"to"`
	Text         *string       `json:"text"`
	User         string        `json:"user"`
	Ref          *model.CRMRef `json:"ref"`
	StatusReport bool          `json:"status_report"`
	SendAt       *time.Time    `json:"send_at"`
	ExpiresAt    *time.Time    `json:"expires_at"`
	// Priority above 0 goes before every other message, below 0 after
	// bulk sends; 100 and more also pass quiet hours and daily caps.
	Priority *int `json:"priority"`
	// Campaign names a bulk send (several recipients).
	Campaign string `json:"campaign"`
}

// validate checks the body's shape; the rules on recipients, text and
// times are the core's (gateway.Service.Send).
func (b *sendBody) validate() error {
	if b.Text == nil {
		return httpkit.ErrInvalidField.With(map[string]string{"field": "text"}, `field "text" is required and must not be empty`)
	}
	if b.Priority != nil && (*b.Priority < -128 || *b.Priority > 127) {
		return httpkit.ErrInvalidField.With(map[string]string{"field": "priority"}, `field "priority" must be between -128 and 127`)
	}
	if b.Ref != nil && (b.Ref.Type == "" || b.Ref.ID == "") {
		return httpkit.ErrInvalidField.With(map[string]string{"field": "ref"}, `field "ref" needs both "type" and "id"`)
	}
	return nil
}

// MessageView is a message as the API shows it.
type MessageView struct {
	ID           string        `json:"id"`
	BatchID      string        `json:"batch_id,omitempty"`
	Direction    string        `json:"direction"`
	Number       string        `json:"number"`
	Text         string        `json:"text,omitempty"`
	Data         []byte        `json:"data,omitempty"`
	Encoding     string        `json:"encoding,omitempty"`
	Parts        int           `json:"parts"`
	State        model.State   `json:"state"`
	Error        string        `json:"error,omitempty"`
	UserID       string        `json:"user_id,omitempty"`
	Marketing    bool          `json:"marketing"`
	StatusReport bool          `json:"status_report"`
	Ref          *model.CRMRef `json:"ref,omitempty"`
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
	PartStates   []PartView    `json:"part_states,omitempty"`
}

type PartView struct {
	Seq         int         `json:"seq"`
	State       model.State `json:"state"`
	Modem       string      `json:"modem,omitempty"`
	MR          *int        `json:"mr,omitempty"`
	Attempts    int         `json:"attempts"`
	Error       string      `json:"error,omitempty"`
	SentAt      time.Time   `json:"sent_at,omitzero"`
	DeliveredAt time.Time   `json:"delivered_at,omitzero"`
}

func viewMessage(m model.Message, parts []model.Part) MessageView {
	v := MessageView{
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
		pv := PartView{Seq: p.Seq, State: p.State, Modem: p.Modem, Attempts: p.Attempts, Error: p.Error, SentAt: p.SentAt, DeliveredAt: p.DeliveredAt}
		if p.MR >= 0 && !p.SentAt.IsZero() {
			mr := p.MR
			pv.MR = &mr
		}
		v.PartStates = append(v.PartStates, pv)
	}
	return v
}

func viewMessages(ms []model.Message) []MessageView {
	out := make([]MessageView, 0, len(ms))
	for _, m := range ms {
		out = append(out, viewMessage(m, nil))
	}
	return out
}

// SendResponse is the 202 answer of POST /api/v1/messages.
type SendResponse struct {
	BatchID  string                   `json:"batch_id"`
	Replayed bool                     `json:"replayed"`
	Messages []SentView               `json:"messages"`
	Errors   []httpkit.RecipientError `json:"errors"`
	// Warnings are recipients accepted with a remark (unknown_number_range).
	Warnings []httpkit.RecipientError `json:"warnings"`
}

type SentView struct {
	ID       string      `json:"id"`
	To       string      `json:"to"`
	State    model.State `json:"state"`
	Encoding string      `json:"encoding"`
	Parts    int         `json:"parts"`
}

func (s *Server) postMessages(c *gin.Context) {
	if s.sh.Draining() {
		c.Header("Retry-After", "30")
		s.sh.Fail(c, httpkit.ErrShuttingDown)
		return
	}
	var body sendBody
	if !s.sh.Bind(c, &body) {
		return
	}
	if err := body.validate(); err != nil {
		s.sh.Fail(c, err)
		return
	}
	key := c.GetHeader("Idempotency-Key")
	p := httpkit.PrincipalFrom(c)
	req := gateway.SendRequest{
		UserID: p.UserID, To: body.To, Text: *body.Text, CRM: body.Ref,
		StatusReport: body.StatusReport, IdempotencyKey: key, Campaign: body.Campaign,
	}
	if body.Priority != nil {
		req.Priority = *body.Priority
	}
	if body.User != "" && !strings.EqualFold(body.User, p.User) {
		if !p.Admin {
			s.sh.Fail(c, httpkit.ErrForbidden.With(map[string]string{"field": "user"}, "only an admin's token may send as another user"))
			return
		}
		u, err := s.msgs.UserByName(c.Request.Context(), body.User)
		if err != nil {
			s.sh.Fail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "user"}, "no user named %q", body.User))
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
	res, err := s.msgs.Send(c.Request.Context(), req)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	out := SendResponse{BatchID: res.BatchID.String(), Replayed: res.Replayed, Errors: httpkit.RecipientErrors(res.Rejected), Warnings: httpkit.RecipientErrors(res.Warnings)}
	for _, m := range res.Messages {
		out.Messages = append(out.Messages, SentView{ID: m.ID.String(), To: m.Number, State: m.State, Encoding: m.Encoding, Parts: m.Parts})
		if !res.Replayed {
			s.sh.Accepted(1)
		}
	}
	if res.Replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	httpkit.WriteJSON(c, http.StatusAccepted, out)
}

func pathID(c *gin.Context) (model.ID, error) {
	id, err := model.ParseID(c.Param("id"))
	if err != nil {
		return 0, httpkit.ErrNotFound.With(map[string]string{"id": c.Param("id")}, "no message %q (ids are 16 hex digits)", c.Param("id"))
	}
	return id, nil
}

func (s *Server) getMessage(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	d, err := s.msgs.Message(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, id)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, viewMessage(d.Message, d.Parts))
}

// page reads cursor and limit (1..500, default 50).
func page(c *gin.Context) (gateway.Page, error) {
	p := gateway.Page{Cursor: c.Query("cursor"), Limit: 50}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return p, httpkit.ErrInvalidField.With(map[string]string{"field": "limit"}, "limit must be a whole number from 1 to 500, not %q", l)
		}
		p.Limit = n
	}
	return p, nil
}

type List[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func (s *Server) listMessages(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	q := gateway.MessageQuery{Page: p, State: model.State(c.Query("state")), Number: c.Query("number")}
	if since := c.Query("since"); since != "" {
		t, err := time.Parse(time.RFC3339, since)
		if err != nil {
			s.sh.Fail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "since"}, "since must be an RFC 3339 time like 2026-01-02T15:04:05Z, not %q", since))
			return
		}
		q.Since = t
	}
	ms, err := s.msgs.Messages(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, q)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, List[MessageView]{Items: viewMessages(ms.Items), NextCursor: ms.Next})
}

func (s *Server) retryMessage(c *gin.Context) {
	if s.sh.Draining() {
		s.sh.Fail(c, httpkit.ErrShuttingDown)
		return
	}
	id, err := pathID(c)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	m, err := s.msgs.Retry(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, id)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusAccepted, viewMessage(m, nil))
}

func (s *Server) cancelMessage(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	m, err := s.msgs.Cancel(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, id)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, viewMessage(m, nil))
}

func (s *Server) listFailures(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	ms, err := s.msgs.Failures(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, p)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, List[MessageView]{Items: viewMessages(ms.Items), NextCursor: ms.Next})
}
