package ui

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
)

// contactAdd saves the record card typed for an unknown number.
func (h *Handler) contactAdd(c *gin.Context) {
	number := h.gw.ConversationNumber(c.Param("number"))
	_, err := h.gw.UpsertContact(c.Request.Context(), gateway.ContactInput{Number: number,
		Name: c.PostForm("name"), JobTitle: c.PostForm("job_title"), Company: c.PostForm("company"), Email: c.PostForm("email")})
	if err != nil {
		var ve *gateway.ValidationError
		if errors.As(err, &ve) {
			h.redirectWith(c, convURL(number), flashError, "Contact not saved: "+sendProblemFields(ve))
			return
		}
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, convURL(number))
}
