package webui

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// Bulk is what the bulk-sending routes need from the core: groups, saved
// searches, templates, contacts as CSV, bulk sends with their progress,
// and opt-outs. *gateway.Service implements it as is.
type Bulk interface {
	PutGroup(ctx context.Context, viewer store.ID, in gateway.GroupInput) (store.Group, error)
	Group(ctx context.Context, viewer store.ID, id string) (store.Group, error)
	DeleteGroup(ctx context.Context, viewer store.ID, id string) error
	Groups(ctx context.Context, viewer store.ID) ([]store.Group, error)
	PutSavedSearch(ctx context.Context, viewer store.ID, ss store.SavedSearch) (store.SavedSearch, error)
	SavedSearch(ctx context.Context, viewer store.ID, id string) (store.SavedSearch, error)
	DeleteSavedSearch(ctx context.Context, viewer store.ID, id string) error
	SavedSearches(ctx context.Context, viewer store.ID) ([]store.SavedSearch, error)
	SearchContacts(ctx context.Context, viewer store.ID, q store.ContactQuery) ([]store.Contact, error)
	PutTemplate(ctx context.Context, viewer store.ID, in gateway.TemplateInput) (store.Template, error)
	Template(ctx context.Context, viewer store.ID, id string) (store.Template, error)
	DeleteTemplate(ctx context.Context, viewer store.ID, id string) error
	Templates(ctx context.Context, viewer store.ID) ([]store.Template, error)
	ImportContacts(ctx context.Context, viewer store.ID, r io.Reader, skipBad bool) (gateway.ImportResult, error)
	ExportContacts(ctx context.Context, viewer store.ID, w io.Writer) error
	PreviewBulk(ctx context.Context, req gateway.BulkRequest) (*gateway.BulkPreview, error)
	SendBulk(ctx context.Context, req gateway.BulkRequest) (*gateway.BulkResult, error)
	Campaign(ctx context.Context, viewer, batch store.ID) (gateway.CampaignProgress, error)
	Campaigns(ctx context.Context, viewer store.ID, limit int) ([]store.Campaign, error)
	CancelCampaign(ctx context.Context, viewer, batch store.ID) (int, error)
	OptOuts(ctx context.Context, viewer store.ID) ([]store.OptOut, error)
	SetOptOut(ctx context.Context, viewer store.ID, number string, out bool) (string, error)
	ExportOptOuts(ctx context.Context, viewer store.ID, w io.Writer) error
}

var _ Bulk = (*gateway.Service)(nil)

// bulkRoutes mounts the bulk-sending API.
func (s *Server) bulkRoutes(add func(method, path, scope string, h gin.HandlerFunc)) {
	add(http.MethodPut, "/groups/:id", ScopeSend, s.putGroup)
	add(http.MethodGet, "/groups/:id", ScopeRead, s.getGroup)
	add(http.MethodDelete, "/groups/:id", ScopeSend, s.deleteGroup)
	add(http.MethodGet, "/groups", ScopeRead, s.listGroups)
	add(http.MethodPut, "/searches/:id", ScopeSend, s.putSearch)
	add(http.MethodGet, "/searches/:id", ScopeRead, s.getSearch)
	add(http.MethodDelete, "/searches/:id", ScopeSend, s.deleteSearch)
	add(http.MethodGet, "/searches", ScopeRead, s.listSearches)
	add(http.MethodGet, "/searches/:id/contacts", ScopeRead, s.runSearch)
	add(http.MethodPut, "/templates/:id", ScopeSend, s.putTemplate)
	add(http.MethodGet, "/templates/:id", ScopeRead, s.getTemplate)
	add(http.MethodDelete, "/templates/:id", ScopeSend, s.deleteTemplate)
	add(http.MethodGet, "/templates", ScopeRead, s.listTemplates)
	add(http.MethodPost, "/contacts-import", ScopeSend, s.importContacts)
	add(http.MethodGet, "/contacts-export", ScopeRead, s.exportContacts)
	add(http.MethodPost, "/bulk/preview", ScopeSend, s.previewBulk)
	add(http.MethodPost, "/bulk", ScopeSend, s.sendBulk)
	add(http.MethodGet, "/campaigns", ScopeRead, s.listCampaigns)
	add(http.MethodGet, "/campaigns/:id", ScopeRead, s.getCampaign)
	add(http.MethodPost, "/campaigns/:id/cancel", ScopeSend, s.cancelCampaign)
	add(http.MethodGet, "/optouts", ScopeAdmin, s.listOptOuts)
	add(http.MethodPut, "/optouts/:number", ScopeAdmin, s.putOptOut)
	add(http.MethodDelete, "/optouts/:number", ScopeAdmin, s.deleteOptOut)
}

// withBulk runs h with the core's bulk API, or answers 503 when the
// gateway behind this server has none.
func (s *Server) withBulk(c *gin.Context) (Bulk, bool) {
	if s.bulk == nil {
		s.fail(c, ErrUnavailable.With(nil, "bulk sending is not available on this server"))
		return nil, false
	}
	return s.bulk, true
}

type itemsOf[T any] struct {
	Items []T `json:"items"`
}

func items[T any](v []T) itemsOf[T] {
	if v == nil {
		v = []T{}
	}
	return itemsOf[T]{v}
}

// answer writes v (status 200) or fails with err.
func answer[T any](s *Server, c *gin.Context, status int, v T, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, status, v)
}

func (s *Server) putGroup(c *gin.Context) {
	b, ok := s.withBulk(c)
	if !ok {
		return
	}
	var body struct {
		Name    string   `json:"name"`
		Members []string `json:"members"`
	}
	if !s.bind(c, &body) {
		return
	}
	if len(body.Members) > s.opts.MaxRecipients {
		s.fail(c, ErrTooManyRecipient.With(map[string]int{"limit": s.opts.MaxRecipients, "got": len(body.Members)}, "%d members; the limit is %d", len(body.Members), s.opts.MaxRecipients))
		return
	}
	g, err := b.PutGroup(c.Request.Context(), principal(c).UserID, gateway.GroupInput{ID: c.Param("id"), Name: body.Name, Members: body.Members})
	answer(s, c, http.StatusOK, g, err)
}

func (s *Server) getGroup(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		g, err := b.Group(c.Request.Context(), principal(c).UserID, c.Param("id"))
		answer(s, c, http.StatusOK, g, err)
	}
}

func (s *Server) deleteGroup(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		s.noContent(c, b.DeleteGroup(c.Request.Context(), principal(c).UserID, c.Param("id")))
	}
}

func (s *Server) listGroups(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		gs, err := b.Groups(c.Request.Context(), principal(c).UserID)
		answer(s, c, http.StatusOK, items(gs), err)
	}
}

func (s *Server) putSearch(c *gin.Context) {
	b, ok := s.withBulk(c)
	if !ok {
		return
	}
	var body struct {
		Name  string             `json:"name"`
		Query store.ContactQuery `json:"query"`
	}
	if !s.bind(c, &body) {
		return
	}
	ss, err := b.PutSavedSearch(c.Request.Context(), principal(c).UserID, store.SavedSearch{ID: c.Param("id"), Name: body.Name, Query: body.Query})
	answer(s, c, http.StatusOK, ss, err)
}

func (s *Server) getSearch(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		ss, err := b.SavedSearch(c.Request.Context(), principal(c).UserID, c.Param("id"))
		answer(s, c, http.StatusOK, ss, err)
	}
}

func (s *Server) deleteSearch(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		s.noContent(c, b.DeleteSavedSearch(c.Request.Context(), principal(c).UserID, c.Param("id")))
	}
}

func (s *Server) listSearches(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		ss, err := b.SavedSearches(c.Request.Context(), principal(c).UserID)
		answer(s, c, http.StatusOK, items(ss), err)
	}
}

func (s *Server) runSearch(c *gin.Context) {
	b, ok := s.withBulk(c)
	if !ok {
		return
	}
	ctx, viewer := c.Request.Context(), principal(c).UserID
	ss, err := b.SavedSearch(ctx, viewer, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	cs, err := b.SearchContacts(ctx, viewer, ss.Query)
	answer(s, c, http.StatusOK, items(cs), err)
}

func (s *Server) putTemplate(c *gin.Context) {
	b, ok := s.withBulk(c)
	if !ok {
		return
	}
	var body struct {
		Name      string            `json:"name"`
		Text      string            `json:"text"`
		Fallbacks map[string]string `json:"fallbacks"`
	}
	if !s.bind(c, &body) {
		return
	}
	t, err := b.PutTemplate(c.Request.Context(), principal(c).UserID, gateway.TemplateInput{ID: c.Param("id"), Name: body.Name, Text: body.Text, Fallbacks: body.Fallbacks})
	answer(s, c, http.StatusOK, t, err)
}

func (s *Server) getTemplate(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		t, err := b.Template(c.Request.Context(), principal(c).UserID, c.Param("id"))
		answer(s, c, http.StatusOK, t, err)
	}
}

func (s *Server) deleteTemplate(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		s.noContent(c, b.DeleteTemplate(c.Request.Context(), principal(c).UserID, c.Param("id")))
	}
}

func (s *Server) listTemplates(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		ts, err := b.Templates(c.Request.Context(), principal(c).UserID)
		answer(s, c, http.StatusOK, items(ts), err)
	}
}

// importContacts reads a CSV body (text/csv). With bad lines it answers
// 422 listing every one and writes nothing, unless ?skip_bad=true.
func (s *Server) importContacts(c *gin.Context) {
	b, ok := s.withBulk(c)
	if !ok {
		return
	}
	skip, _ := strconv.ParseBool(c.Query("skip_bad"))
	body := http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxBodyBytes)
	res, err := b.ImportContacts(c.Request.Context(), principal(c).UserID, body, skip)
	if err != nil {
		s.fail(c, err)
		return
	}
	status := http.StatusOK
	if !res.Imported && len(res.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	writeJSON(c, status, res)
}

func (s *Server) exportContacts(c *gin.Context) {
	b, ok := s.withBulk(c)
	if !ok {
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="contacts.csv"`)
	if err := b.ExportContacts(c.Request.Context(), principal(c).UserID, c.Writer); err != nil {
		s.log.Warn("webui: contacts export failed", "error", err)
	}
}

// bulkBody is the JSON of POST /bulk and /bulk/preview.
type bulkBody struct {
	Groups       []string            `json:"groups"`
	Searches     []string            `json:"searches"`
	Query        *store.ContactQuery `json:"query"`
	Numbers      []string            `json:"numbers"`
	Text         string              `json:"text"`
	Template     string              `json:"template"`
	Campaign     string              `json:"campaign"`
	Priority     int                 `json:"priority"`
	StatusReport bool                `json:"status_report"`
	SendAt       *time.Time          `json:"send_at"`
	ExpiresAt    *time.Time          `json:"expires_at"`
}

func (s *Server) bulkRequest(c *gin.Context) (gateway.BulkRequest, bool) {
	var body bulkBody
	if !s.bind(c, &body) {
		return gateway.BulkRequest{}, false
	}
	req := gateway.BulkRequest{UserID: principal(c).UserID, GroupIDs: body.Groups, SearchIDs: body.Searches, Query: body.Query,
		Numbers: body.Numbers, Text: body.Text, TemplateID: body.Template, Campaign: body.Campaign, Priority: body.Priority,
		StatusReport: body.StatusReport}
	if body.SendAt != nil {
		req.SendAt = *body.SendAt
	}
	if body.ExpiresAt != nil {
		req.ExpiresAt = *body.ExpiresAt
	}
	return req, true
}

func (s *Server) previewBulk(c *gin.Context) {
	b, ok := s.withBulk(c)
	if !ok {
		return
	}
	if req, ok := s.bulkRequest(c); ok {
		p, err := b.PreviewBulk(c.Request.Context(), req)
		answer(s, c, http.StatusOK, p, err)
	}
}

func (s *Server) sendBulk(c *gin.Context) {
	if s.draining.Load() {
		c.Header("Retry-After", "30")
		s.fail(c, ErrShuttingDown)
		return
	}
	b, ok := s.withBulk(c)
	if !ok {
		return
	}
	req, ok := s.bulkRequest(c)
	if !ok {
		return
	}
	res, err := b.SendBulk(c.Request.Context(), req)
	if err != nil {
		s.fail(c, err)
		return
	}
	writeJSON(c, http.StatusAccepted, gin.H{"batch_id": res.BatchID, "campaign": res.Campaign, "preview": res.Preview})
}

func (s *Server) campaignID(c *gin.Context) (store.ID, bool) {
	id, err := store.ParseID(c.Param("id"))
	if err != nil {
		s.fail(c, ErrNotFound)
		return 0, false
	}
	return id, true
}

func (s *Server) listCampaigns(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		limit, _ := strconv.Atoi(c.Query("limit"))
		cs, err := b.Campaigns(c.Request.Context(), principal(c).UserID, limit)
		answer(s, c, http.StatusOK, items(cs), err)
	}
}

func (s *Server) getCampaign(c *gin.Context) {
	b, ok := s.withBulk(c)
	if !ok {
		return
	}
	if id, ok := s.campaignID(c); ok {
		p, err := b.Campaign(c.Request.Context(), principal(c).UserID, id)
		answer(s, c, http.StatusOK, p, err)
	}
}

func (s *Server) cancelCampaign(c *gin.Context) {
	b, ok := s.withBulk(c)
	if !ok {
		return
	}
	if id, ok := s.campaignID(c); ok {
		n, err := b.CancelCampaign(c.Request.Context(), principal(c).UserID, id)
		answer(s, c, http.StatusOK, gin.H{"cancelled": n}, err)
	}
}

// listOptOuts answers JSON, or CSV with ?format=csv (the export).
func (s *Server) listOptOuts(c *gin.Context) {
	b, ok := s.withBulk(c)
	if !ok {
		return
	}
	if c.Query("format") == "csv" {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="optouts.csv"`)
		if err := b.ExportOptOuts(c.Request.Context(), principal(c).UserID, c.Writer); err != nil {
			s.log.Warn("webui: opt-out export failed", "error", err)
		}
		return
	}
	os, err := b.OptOuts(c.Request.Context(), principal(c).UserID)
	answer(s, c, http.StatusOK, items(os), err)
}

func (s *Server) putOptOut(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		n, err := b.SetOptOut(c.Request.Context(), principal(c).UserID, c.Param("number"), true)
		answer(s, c, http.StatusOK, gin.H{"number": n, "opted_out": true}, err)
	}
}

func (s *Server) deleteOptOut(c *gin.Context) {
	if b, ok := s.withBulk(c); ok {
		_, err := b.SetOptOut(c.Request.Context(), principal(c).UserID, c.Param("number"), false)
		s.noContent(c, err)
	}
}

func (s *Server) noContent(c *gin.Context, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
