package api

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/webui/httpkit"
)

// Bulk is what the bulk-sending routes need from the core: groups, saved
// searches, templates, contacts as CSV, bulk sends with their progress,
// and opt-outs.
type Bulk interface {
	PutGroup(ctx context.Context, viewer model.ID, in gateway.GroupInput) (model.Group, error)
	Group(ctx context.Context, viewer model.ID, id string) (model.Group, error)
	DeleteGroup(ctx context.Context, viewer model.ID, id string) error
	Groups(ctx context.Context, viewer model.ID) ([]model.Group, error)
	PutSavedSearch(ctx context.Context, viewer model.ID, ss model.SavedSearch) (model.SavedSearch, error)
	SavedSearch(ctx context.Context, viewer model.ID, id string) (model.SavedSearch, error)
	DeleteSavedSearch(ctx context.Context, viewer model.ID, id string) error
	SavedSearches(ctx context.Context, viewer model.ID) ([]model.SavedSearch, error)
	SearchContacts(ctx context.Context, viewer model.ID, q model.ContactQuery) ([]model.Contact, error)
	PutTemplate(ctx context.Context, viewer model.ID, in gateway.TemplateInput) (model.Template, error)
	Template(ctx context.Context, viewer model.ID, id string) (model.Template, error)
	DeleteTemplate(ctx context.Context, viewer model.ID, id string) error
	Templates(ctx context.Context, viewer model.ID) ([]model.Template, error)
	ImportContacts(ctx context.Context, viewer model.ID, r io.Reader, skipBad bool) (gateway.ImportResult, error)
	ExportContacts(ctx context.Context, viewer model.ID, w io.Writer) error
	PreviewBulk(ctx context.Context, req gateway.BulkRequest) (*gateway.BulkPreview, error)
	SendBulk(ctx context.Context, req gateway.BulkRequest) (*gateway.BulkResult, error)
	Campaign(ctx context.Context, viewer, batch model.ID) (gateway.CampaignProgress, error)
	Campaigns(ctx context.Context, viewer model.ID, limit int) ([]model.Campaign, error)
	CancelCampaign(ctx context.Context, viewer, batch model.ID) (int, error)
	OptOuts(ctx context.Context, viewer model.ID) ([]model.OptOut, error)
	SetOptOut(ctx context.Context, viewer model.ID, number string, out bool) (string, error)
	ExportOptOuts(ctx context.Context, viewer model.ID, w io.Writer) error
}

// bulkRoutes mounts the bulk-sending API.
func (s *Server) bulkRoutes(add func(method, path, scope string, h gin.HandlerFunc)) {
	add(http.MethodPut, "/groups/:id", httpkit.ScopeSend, s.putGroup)
	add(http.MethodGet, "/groups/:id", httpkit.ScopeRead, s.getGroup)
	add(http.MethodDelete, "/groups/:id", httpkit.ScopeSend, s.deleteGroup)
	add(http.MethodGet, "/groups", httpkit.ScopeRead, s.listGroups)
	add(http.MethodPut, "/searches/:id", httpkit.ScopeSend, s.putSearch)
	add(http.MethodGet, "/searches/:id", httpkit.ScopeRead, s.getSearch)
	add(http.MethodDelete, "/searches/:id", httpkit.ScopeSend, s.deleteSearch)
	add(http.MethodGet, "/searches", httpkit.ScopeRead, s.listSearches)
	add(http.MethodGet, "/searches/:id/contacts", httpkit.ScopeRead, s.runSearch)
	add(http.MethodPut, "/templates/:id", httpkit.ScopeSend, s.putTemplate)
	add(http.MethodGet, "/templates/:id", httpkit.ScopeRead, s.getTemplate)
	add(http.MethodDelete, "/templates/:id", httpkit.ScopeSend, s.deleteTemplate)
	add(http.MethodGet, "/templates", httpkit.ScopeRead, s.listTemplates)
	add(http.MethodPost, "/contacts-import", httpkit.ScopeSend, s.importContacts)
	add(http.MethodGet, "/contacts-export", httpkit.ScopeRead, s.exportContacts)
	add(http.MethodPost, "/bulk/preview", httpkit.ScopeSend, s.previewBulk)
	add(http.MethodPost, "/bulk", httpkit.ScopeSend, s.sendBulk)
	add(http.MethodGet, "/campaigns", httpkit.ScopeRead, s.listCampaigns)
	add(http.MethodGet, "/campaigns/:id", httpkit.ScopeRead, s.getCampaign)
	add(http.MethodPost, "/campaigns/:id/cancel", httpkit.ScopeSend, s.cancelCampaign)
	add(http.MethodGet, "/optouts", httpkit.ScopeAdmin, s.listOptOuts)
	add(http.MethodPut, "/optouts/:number", httpkit.ScopeAdmin, s.putOptOut)
	add(http.MethodDelete, "/optouts/:number", httpkit.ScopeAdmin, s.deleteOptOut)
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
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, status, v)
}

func (s *Server) putGroup(c *gin.Context) {
	b := s.bulk
	var body struct {
		Name    string   `json:"name"`
		Members []string `json:"members"`
	}
	if !s.sh.Bind(c, &body) {
		return
	}
	g, err := b.PutGroup(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, gateway.GroupInput{ID: c.Param("id"), Name: body.Name, Members: body.Members})
	answer(s, c, http.StatusOK, g, err)
}

func (s *Server) getGroup(c *gin.Context) {
	b := s.bulk
	g, err := b.Group(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, c.Param("id"))
	answer(s, c, http.StatusOK, g, err)
}

func (s *Server) deleteGroup(c *gin.Context) {
	b := s.bulk
	s.noContent(c, b.DeleteGroup(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, c.Param("id")))
}

func (s *Server) listGroups(c *gin.Context) {
	b := s.bulk
	gs, err := b.Groups(c.Request.Context(), httpkit.PrincipalFrom(c).UserID)
	answer(s, c, http.StatusOK, items(gs), err)
}

func (s *Server) putSearch(c *gin.Context) {
	b := s.bulk
	var body struct {
		Name  string             `json:"name"`
		Query model.ContactQuery `json:"query"`
	}
	if !s.sh.Bind(c, &body) {
		return
	}
	ss, err := b.PutSavedSearch(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, model.SavedSearch{ID: c.Param("id"), Name: body.Name, Query: body.Query})
	answer(s, c, http.StatusOK, ss, err)
}

func (s *Server) getSearch(c *gin.Context) {
	b := s.bulk
	ss, err := b.SavedSearch(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, c.Param("id"))
	answer(s, c, http.StatusOK, ss, err)
}

func (s *Server) deleteSearch(c *gin.Context) {
	b := s.bulk
	s.noContent(c, b.DeleteSavedSearch(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, c.Param("id")))
}

func (s *Server) listSearches(c *gin.Context) {
	b := s.bulk
	ss, err := b.SavedSearches(c.Request.Context(), httpkit.PrincipalFrom(c).UserID)
	answer(s, c, http.StatusOK, items(ss), err)
}

func (s *Server) runSearch(c *gin.Context) {
	b := s.bulk
	ctx, viewer := c.Request.Context(), httpkit.PrincipalFrom(c).UserID
	ss, err := b.SavedSearch(ctx, viewer, c.Param("id"))
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	cs, err := b.SearchContacts(ctx, viewer, ss.Query)
	answer(s, c, http.StatusOK, items(cs), err)
}

func (s *Server) putTemplate(c *gin.Context) {
	b := s.bulk
	var body struct {
		Name      string            `json:"name"`
		Text      string            `json:"text"`
		Fallbacks map[string]string `json:"fallbacks"`
	}
	if !s.sh.Bind(c, &body) {
		return
	}
	t, err := b.PutTemplate(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, gateway.TemplateInput{ID: c.Param("id"), Name: body.Name, Text: body.Text, Fallbacks: body.Fallbacks})
	answer(s, c, http.StatusOK, t, err)
}

func (s *Server) getTemplate(c *gin.Context) {
	b := s.bulk
	t, err := b.Template(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, c.Param("id"))
	answer(s, c, http.StatusOK, t, err)
}

func (s *Server) deleteTemplate(c *gin.Context) {
	b := s.bulk
	s.noContent(c, b.DeleteTemplate(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, c.Param("id")))
}

func (s *Server) listTemplates(c *gin.Context) {
	b := s.bulk
	ts, err := b.Templates(c.Request.Context(), httpkit.PrincipalFrom(c).UserID)
	answer(s, c, http.StatusOK, items(ts), err)
}

// importContacts reads a CSV body (text/csv). With bad lines it answers
// 422 listing every one and writes nothing, unless ?skip_bad=true.
func (s *Server) importContacts(c *gin.Context) {
	b := s.bulk
	skip, _ := strconv.ParseBool(c.Query("skip_bad"))
	body := http.MaxBytesReader(c.Writer, c.Request.Body, s.sh.MaxBodyBytes)
	res, err := b.ImportContacts(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, body, skip)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	status := http.StatusOK
	if !res.Imported && len(res.Errors) > 0 {
		status = http.StatusUnprocessableEntity
	}
	httpkit.WriteJSON(c, status, res)
}

func (s *Server) exportContacts(c *gin.Context) {
	b := s.bulk
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="contacts.csv"`)
	if err := b.ExportContacts(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, c.Writer); err != nil {
		s.sh.Log.Warn("webui: contacts export failed", "error", err)
	}
}

// bulkBody is the JSON of POST /bulk and /bulk/preview.
type bulkBody struct {
	Groups       []string            `json:"groups"`
	Searches     []string            `json:"searches"`
	Query        *model.ContactQuery `json:"query"`
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
	if !s.sh.Bind(c, &body) {
		return gateway.BulkRequest{}, false
	}
	req := gateway.BulkRequest{UserID: httpkit.PrincipalFrom(c).UserID, GroupIDs: body.Groups, SearchIDs: body.Searches, Query: body.Query,
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
	b := s.bulk
	if req, ok := s.bulkRequest(c); ok {
		p, err := b.PreviewBulk(c.Request.Context(), req)
		answer(s, c, http.StatusOK, p, err)
	}
}

func (s *Server) sendBulk(c *gin.Context) {
	if s.sh.Draining() {
		c.Header("Retry-After", "30")
		s.sh.Fail(c, httpkit.ErrShuttingDown)
		return
	}
	b := s.bulk
	req, ok := s.bulkRequest(c)
	if !ok {
		return
	}
	res, err := b.SendBulk(c.Request.Context(), req)
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	httpkit.WriteJSON(c, http.StatusAccepted, gin.H{"batch_id": res.BatchID, "campaign": res.Campaign, "preview": res.Preview})
}

func (s *Server) campaignID(c *gin.Context) (model.ID, bool) {
	id, err := model.ParseID(c.Param("id"))
	if err != nil {
		s.sh.Fail(c, httpkit.ErrNotFound)
		return 0, false
	}
	return id, true
}

func (s *Server) listCampaigns(c *gin.Context) {
	b := s.bulk
	limit, _ := strconv.Atoi(c.Query("limit"))
	cs, err := b.Campaigns(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, limit)
	answer(s, c, http.StatusOK, items(cs), err)
}

func (s *Server) getCampaign(c *gin.Context) {
	b := s.bulk
	if id, ok := s.campaignID(c); ok {
		p, err := b.Campaign(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, id)
		answer(s, c, http.StatusOK, p, err)
	}
}

func (s *Server) cancelCampaign(c *gin.Context) {
	b := s.bulk
	if id, ok := s.campaignID(c); ok {
		n, err := b.CancelCampaign(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, id)
		answer(s, c, http.StatusOK, gin.H{"cancelled": n}, err)
	}
}

// listOptOuts answers JSON, or CSV with ?format=csv (the export).
func (s *Server) listOptOuts(c *gin.Context) {
	b := s.bulk
	if c.Query("format") == "csv" {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", `attachment; filename="optouts.csv"`)
		if err := b.ExportOptOuts(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, c.Writer); err != nil {
			s.sh.Log.Warn("webui: opt-out export failed", "error", err)
		}
		return
	}
	os, err := b.OptOuts(c.Request.Context(), httpkit.PrincipalFrom(c).UserID)
	answer(s, c, http.StatusOK, items(os), err)
}

func (s *Server) putOptOut(c *gin.Context) {
	b := s.bulk
	n, err := b.SetOptOut(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, c.Param("number"), true)
	answer(s, c, http.StatusOK, gin.H{"number": n, "opted_out": true}, err)
}

func (s *Server) deleteOptOut(c *gin.Context) {
	b := s.bulk
	_, err := b.SetOptOut(c.Request.Context(), httpkit.PrincipalFrom(c).UserID, c.Param("number"), false)
	s.noContent(c, err)
}

func (s *Server) noContent(c *gin.Context, err error) {
	if err != nil {
		s.sh.Fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
