package ui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/gsmgate/gsmgate/gateway"
)

// replySend sends the reply box's text to the conversation's number and
// comes back to the thread (post/redirect/get). A refused send shows the
// thread again with the reason and the text kept.
func (h *Handler) replySend(c *gin.Context) {
	v := viewerOf(c)
	number := h.gw.ConversationNumber(c.Param("number"))
	text := c.PostForm("text")
	if why := h.replyRefusal(number); why != "" {
		c.String(http.StatusUnprocessableEntity, why)
		return
	}
	if strings.TrimSpace(text) == "" {
		c.Redirect(http.StatusSeeOther, convURL(number))
		return
	}
	_, err := h.gw.Send(c.Request.Context(), gateway.SendRequest{UserID: v.User.ID, To: []string{number}, Text: text, StatusReport: true})
	if err != nil {
		var ve *gateway.ValidationError
		if !errors.As(err, &ve) {
			h.fail(c, err)
			return
		}
		h.redirectWith(c, convURL(number), flashError, sendProblem(ve))
		return
	}
	c.Redirect(http.StatusSeeOther, convURL(number))
}

// sendProblem puts a refused send's reasons in one sentence.
func sendProblem(ve *gateway.ValidationError) string {
	return "Not sent: " + sendProblemFields(ve) + "."
}

// sendProblemFields lists a validation error's reasons.
func sendProblemFields(ve *gateway.ValidationError) string {
	var parts []string
	for _, f := range ve.Fields {
		if f.Value != "" {
			parts = append(parts, f.Value+": "+f.Reason)
		} else {
			parts = append(parts, f.Reason)
		}
	}
	return strings.Join(parts, "; ")
}
