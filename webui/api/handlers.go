package api

import (
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// boolQuery reads an optional true/false query parameter.
func boolQuery(c *gin.Context, name string) (*bool, error) {
	v, ok := c.GetQuery(name)
	if !ok || v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, httpkit.ErrInvalidField.With(map[string]string{"field": name}, "%s must be true or false, not %q", name, v)
	}
	return &b, nil
}

// userQuery resolves ?user=NAME: admins may read any user's view, others
// only their own.
func (s *Server) userQuery(c *gin.Context) (model.ID, bool) {
	p := httpkit.PrincipalFrom(c)
	v := p.UserID
	name := c.Query("user")
	if name == "" || name == p.User {
		return v, true
	}
	if !p.Admin {
		s.sh.Fail(c, httpkit.ErrForbidden.With(map[string]string{"field": "user"}, "only an admin's token may read another user's conversations"))
		return v, false
	}
	u, err := s.msgs.UserByName(c.Request.Context(), name)
	if err != nil {
		s.sh.Fail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "user"}, "no user named %q", name))
		return v, false
	}
	// An admin reading as a user sees what that user sees.
	return u.ID, true
}

func (s *Server) listConversations(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	mk, err := boolQuery(c, "include_marketing")
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	un, err := boolQuery(c, "unassigned")
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	all, err := boolQuery(c, "all")
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	v, ok := s.userQuery(c)
	if !ok {
		return
	}
	q := gateway.ConversationQuery{Page: p, IncludeMarketing: mk, Unassigned: un != nil && *un, All: all != nil && *all}
	cs, err := s.inbox.Conversations(c.Request.Context(), v, q)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	out := make([]ConversationView, 0, len(cs.Items))
	for _, cv := range cs.Items {
		out = append(out, viewConversation(cv))
	}
	httpkit.WriteJSON(c, http.StatusOK, List[ConversationView]{Items: out, NextCursor: cs.Next})
}

// pathNumber normalises the {number} path parameter of a contact.
func (s *Server) pathNumber(c *gin.Context) (string, bool) {
	raw := c.Param("number")
	n, err := s.contacts.NormalizeNumber(raw)
	if err != nil {
		s.sh.Fail(c, httpkit.ErrInvalidNumber.With(map[string]string{"number": raw}, "%q: %v", raw, err))
		return "", false
	}
	return n, true
}

// pathConversation reads the {number} path parameter of a conversation:
// the other party as the network gave it (E.164, a short code, a sender
// name), so that every conversation listed can be opened.
func (s *Server) pathConversation(c *gin.Context) (string, bool) {
	n := s.inbox.ConversationNumber(c.Param("number"))
	if n == "" {
		s.sh.Fail(c, httpkit.ErrInvalidNumber.With(map[string]string{"number": ""}, "the conversation number is empty"))
		return "", false
	}
	return n, true
}

func (s *Server) conversationMessages(c *gin.Context) {
	p, err := page(c)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	v, ok := s.userQuery(c)
	if !ok {
		return
	}
	number, ok := s.pathConversation(c)
	if !ok {
		return
	}
	tp, err := s.inbox.Thread(c.Request.Context(), v, number, p)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	out := make([]MessageView, 0, len(tp.Messages))
	for _, m := range tp.Messages {
		out = append(out, viewMessage(m.Message, nil))
	}
	httpkit.WriteJSON(c, http.StatusOK, List[MessageView]{Items: out, NextCursor: tp.Next})
}

// contactBody is the JSON of PUT /api/v1/contacts/{number}.
// Every field of the record card, of saved searches (tags) and of template
// placeholders ({first_name}, custom fields) can be pushed; a PUT replaces
// the whole contact, so a field left out is cleared.
type contactBody struct {
	Name      string            `json:"name"`
	FirstName string            `json:"first_name"`
	JobTitle  string            `json:"job_title"`
	Company   string            `json:"company"`
	Email     string            `json:"email"`
	Phones    []model.Phone     `json:"phones"`
	CRMURL    string            `json:"crm_url"`
	Ref       *model.CRMRef     `json:"ref"`
	Tags      []string          `json:"tags"`
	Fields    map[string]string `json:"fields"`
}

func (s *Server) putContact(c *gin.Context) {
	number, ok := s.pathNumber(c)
	if !ok {
		return
	}
	var b contactBody
	if !s.sh.Bind(c, &b) {
		return
	}
	for field, v := range map[string]string{"name": b.Name, "first_name": b.FirstName, "job_title": b.JobTitle, "company": b.Company, "email": b.Email, "crm_url": b.CRMURL} {
		if utf8.RuneCountInString(v) > 500 {
			s.sh.Fail(c, httpkit.ErrInvalidField.With(map[string]string{"field": field}, "field %q is longer than 500 characters", field))
			return
		}
	}
	in := gateway.ContactInput{Number: number, Name: b.Name, FirstName: b.FirstName, JobTitle: b.JobTitle, Company: b.Company,
		Email: b.Email, CRMURL: b.CRMURL, CRM: b.Ref, Tags: b.Tags, Fields: b.Fields}
	for _, ph := range b.Phones {
		in.Phones = append(in.Phones, model.Phone{Number: ph.Number, Label: ph.Label})
	}
	saved, err := s.contacts.UpsertContact(c.Request.Context(), in)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, viewContact(saved))
}

func (s *Server) getContact(c *gin.Context) {
	number, ok := s.pathNumber(c)
	if !ok {
		return
	}
	ct, err := s.contacts.Contact(c.Request.Context(), number)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, viewContact(ct))
}

func (s *Server) deleteContact(c *gin.Context) {
	number, ok := s.pathNumber(c)
	if !ok {
		return
	}
	if err := s.contacts.DeleteContact(c.Request.Context(), number); err != nil {
		s.sh.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// ModemList is GET /api/v1/modems. The queue depth is the outbox's, at the
// top: parts are not queued per modem (the next free modem takes the next
// part), so a modem only says whether it is sending now (leased).
type ModemList struct {
	Items      []ModemView `json:"items"`
	QueueDepth int         `json:"queue_depth"`
}

func (s *Server) listModems(c *gin.Context) {
	ms := s.health.Modems(c.Request.Context())
	out := make([]ModemView, 0, len(ms))
	for _, m := range ms {
		out = append(out, ModemView(m))
	}
	httpkit.WriteJSON(c, http.StatusOK, ModemList{Items: out, QueueDepth: s.health.QueueDepth()})
}

// countBody is the JSON of POST /api/v1/count.
type countBody struct {
	Text *string `json:"text"`
}

// CountView has the field names of `gsmgate pdu count`.
type CountView struct {
	Encoding   string `json:"encoding"`
	Characters int    `json:"characters"`
	Units      int    `json:"units"`
	Parts      int    `json:"parts"`
	PerPart    int    `json:"per_part"`
	Remaining  int    `json:"remaining"`
	// UnicodeForcing lists the characters that force UCS-2, each with its
	// index in code points, so a UI can point at it; empty, not absent,
	// for a GSM 7-bit text.
	UnicodeForcing []ForcingView `json:"unicode_forcing"`
}

type ForcingView struct {
	Char  string `json:"char"`
	Index int    `json:"index"`
}

func (s *Server) count(c *gin.Context) {
	var b countBody
	if !s.sh.Bind(c, &b) {
		return
	}
	if b.Text == nil {
		s.sh.Fail(c, httpkit.ErrInvalidField.With(map[string]string{"field": "text"}, `field "text" is required`))
		return
	}
	cnt := s.msgs.CountText(*b.Text)
	v := CountView{Encoding: cnt.Encoding, Characters: cnt.Characters, Units: cnt.Units, Parts: cnt.Parts, PerPart: cnt.PerPart,
		Remaining: cnt.Remaining, UnicodeForcing: make([]ForcingView, 0, len(cnt.UnicodeForcing))}
	for _, f := range cnt.UnicodeForcing {
		v.UnicodeForcing = append(v.UnicodeForcing, ForcingView{Char: f.Char, Index: f.Index})
	}
	httpkit.WriteJSON(c, http.StatusOK, v)
}

// webhookBody is the JSON of POST /api/v1/webhooks.
type webhookBody struct {
	URL    string   `json:"url"`
	Events []string `json:"events"`
	Secret string   `json:"secret"`
}

type WebhookView struct {
	ID         string         `json:"id"`
	URL        string         `json:"url"`
	Events     []string       `json:"events"`
	HasSecret  bool           `json:"has_secret"`
	CreatedAt  time.Time      `json:"created_at"`
	Deliveries []DeliveryView `json:"last_deliveries,omitempty"`
}

type DeliveryView struct {
	ID          string    `json:"id"`
	Event       string    `json:"event"`
	State       string    `json:"state"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error,omitempty"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func viewWebhook(h model.Webhook, ds []model.WebhookDelivery) WebhookView {
	v := WebhookView{ID: h.ID.String(), URL: h.URL, Events: h.Events, HasSecret: h.Secret != "", CreatedAt: h.CreatedAt}
	for _, d := range ds {
		dv := DeliveryView{ID: d.ID.String(), Event: d.Event, State: d.State, Attempts: d.Attempts, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
		if d.State == model.DeliveryPending {
			dv.NextAttempt = d.NextAttempt
		}
		v.Deliveries = append(v.Deliveries, dv)
	}
	return v
}

func (s *Server) createWebhook(c *gin.Context) {
	var b webhookBody
	if !s.sh.Bind(c, &b) {
		return
	}
	// Webhooks are an admin's: they receive every event (UserID zero).
	h, err := s.hooks.Create(c.Request.Context(), model.Webhook{URL: b.URL, Events: b.Events, Secret: b.Secret})
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusCreated, viewWebhook(h, nil))
}

func (s *Server) listWebhooks(c *gin.Context) {
	hs, err := s.hooks.List(c.Request.Context(), 0)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	out := make([]WebhookView, 0, len(hs))
	for _, h := range hs {
		out = append(out, viewWebhook(h, nil))
	}
	httpkit.WriteJSON(c, http.StatusOK, List[WebhookView]{Items: out})
}

func (s *Server) webhookID(c *gin.Context) (model.ID, bool) {
	id, err := model.ParseID(c.Param("id"))
	if err != nil {
		s.sh.Fail(c, httpkit.ErrNotFound.With(map[string]string{"id": c.Param("id")}, "no webhook %q", c.Param("id")))
		return 0, false
	}
	return id, true
}

func (s *Server) getWebhook(c *gin.Context) {
	id, ok := s.webhookID(c)
	if !ok {
		return
	}
	h, err := s.hooks.Get(c.Request.Context(), id)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	ds, err := s.hooks.Deliveries(c.Request.Context(), id, 20)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusOK, viewWebhook(h, ds))
}

func (s *Server) deleteWebhook(c *gin.Context) {
	id, ok := s.webhookID(c)
	if !ok {
		return
	}
	if err := s.hooks.Delete(c.Request.Context(), id); err != nil {
		s.sh.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) redeliver(c *gin.Context) {
	id, ok := s.webhookID(c)
	if !ok {
		return
	}
	did, err := model.ParseID(c.Param("delivery"))
	if err != nil {
		s.sh.Fail(c, httpkit.ErrNotFound.With(map[string]string{"delivery": c.Param("delivery")}, "no delivery %q", c.Param("delivery")))
		return
	}
	d, err := s.hooks.Redeliver(c.Request.Context(), id, did)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	h, err := s.hooks.Get(c.Request.Context(), id)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	v := viewWebhook(h, []model.WebhookDelivery{d})
	httpkit.WriteJSON(c, http.StatusAccepted, v.Deliveries[0])
}
