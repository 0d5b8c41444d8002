package ui

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
	"github.com/gsmgate/gsmgate/gateway/model"
)

type auditData struct {
	Entries []model.AuditEntry
	Next    string
}

// adminAuditPage lists the audit log, newest first. There is no form on
// it: the log is read-only for everyone.
func (h *Handler) adminAuditPage(c *gin.Context) {
	p, err := h.admin.AuditLog(c.Request.Context(), actorOf(c), gateway.Page{Cursor: c.Query("cursor"), Limit: 100})
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, "admin-audit", "Audit log", auditData{Entries: p.Items, Next: p.Next})
}
