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
		ve, ok := refusal(err)
		if !ok {
			h.fail(c, err)
			return
		}
		h.redirectWith(c, convURL(number), flashError, sendProblem(ve))
		return
	}
	c.Redirect(http.StatusSeeOther, convURL(number))
}

// refusal is the core's refusal of a send in the form the pages show:
// a validation error, or the recipients error of a send none of whose
// recipients can be used (a 500 before: the fuzzer found it with
// to=12&to=MyBank). ok is false for any other error.
func refusal(err error) (*gateway.ValidationError, bool) {
	var ve *gateway.ValidationError
	if errors.As(err, &ve) {
		return ve, true
	}
	var re *gateway.RecipientsError
	if errors.As(err, &re) && len(re.Rejected) > 0 {
		return &gateway.ValidationError{Fields: re.Rejected}, true
	}
	return nil, false
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
