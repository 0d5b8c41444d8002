package ui

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// countView is the counter as the script shows it: exactly the core's
// count (the one Send stores), with a suggested replacement for the
// common characters that force UCS-2.
type countView struct {
	Characters int          `json:"characters"`
	Parts      int          `json:"parts"`
	Encoding   string       `json:"encoding"`
	Remaining  int          `json:"remaining"`
	PerPart    int          `json:"per_part"`
	MaxParts   int          `json:"max_parts"`
	Unicode    []forcedChar `json:"unicode"`
}

type forcedChar struct {
	Char        string `json:"char"`
	Index       int    `json:"index"`
	Code        string `json:"code"`
	Replacement string `json:"replacement,omitempty"`
}

// replacements are the GSM 7-bit look-alikes of characters word
// processors and phones put in by themselves.
var replacements = map[string]string{
	"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
	"\u201c": "\"", "\u201d": "\"", "\u201e": "\"", "\u201f": "\"", "\u2033": "\"",
	"\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
	"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2002": " ", "\u2003": " ",
	"\u2026": "...", "\u2022": "-", "\u00b4": "'", "\u02bc": "'",
}

func (h *Handler) countOf(text string) countView {
	tc := h.gw.CountText(text)
	cv := countView{Characters: tc.Characters, Parts: tc.Parts, Encoding: tc.Encoding, Remaining: tc.Remaining,
		PerPart: tc.PerPart, MaxParts: h.gw.Options().MaxParts, Unicode: []forcedChar{}}
	for _, f := range tc.UnicodeForcing {
		code := ""
		if r := []rune(f.Char); len(r) > 0 {
			code = fmt.Sprintf("U+%04X", r[0])
		}
		cv.Unicode = append(cv.Unicode, forcedChar{Char: f.Char, Index: f.Index, Code: code, Replacement: replacements[f.Char]})
	}
	return cv
}

// count answers the counter's POST /ui/count (form field text).
func (h *Handler) count(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h.countOf(c.PostForm("text")))
}
