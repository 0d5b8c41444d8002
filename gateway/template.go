package gateway

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// A template is a text with placeholders: {first_name}, {name}, {company},
// {job_title}, {email}, {number} and any custom contact field ({team}). A
// placeholder may carry its own fallback after a bar: {first_name|there}.
// A brace that does not open a well-formed placeholder is literal text, so
// "{" alone, "{ }" or "{1}" are sent as typed; "{{" is a literal "{".

// Template is a parsed template.
type Template struct {
	text  string
	segs  []tseg
	names []string // placeholders used, in first-use order
}

type tseg struct {
	lit      string // literal text (name == "")
	name     string
	fallback string
	hasFall  bool
}

// TemplateError is a template that cannot be used, with the octet offset
// of the problem.
type TemplateError struct {
	Offset int
	Reason string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("template: at octet %d: %s", e.Offset, e.Reason)
}

// maxPlaceholder bounds a placeholder's name and fallback.
const maxPlaceholder = 200

// ParseTemplate reads a template. The only errors are a standard field
// opened and never closed ("{first_name Dear"), and a fallback never
// closed ("{team|sales"): typos that would otherwise be sent raw.
func ParseTemplate(text string) (*Template, error) {
	t := &Template{text: text}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.segs = append(t.segs, tseg{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c != '{' {
			lit.WriteByte(c)
			i++
			continue
		}
		if i+1 < len(text) && text[i+1] == '{' {
			lit.WriteByte('{')
			i += 2
			continue
		}
		j := i + 1
		for j < len(text) && isNameByte(text[j], j == i+1) {
			j++
		}
		if j == i+1 || j-i-1 > maxPlaceholder {
			lit.WriteByte('{') // not a placeholder: literal brace
			i++
			continue
		}
		name := text[i+1 : j]
		var fb string
		has := false
		if j < len(text) && text[j] == '|' {
			end := strings.IndexAny(text[j+1:], "{}")
			if end < 0 || text[j+1+end] == '{' {
				return nil, &TemplateError{Offset: i, Reason: fmt.Sprintf("placeholder {%s| is not closed with }", name)}
			}
			fb, has = text[j+1:j+1+end], true
			if len(fb) > maxPlaceholder {
				return nil, &TemplateError{Offset: i, Reason: "fallback longer than 200 octets"}
			}
			j = j + 1 + end
		}
		if j >= len(text) || text[j] != '}' {
			if standardField(name) {
				return nil, &TemplateError{Offset: i, Reason: fmt.Sprintf("placeholder {%s is not closed with }", name)}
			}
			lit.WriteString(text[i:j]) // "{word" of plain text: literal
			i = j
			continue
		}
		flush()
		t.segs = append(t.segs, tseg{name: strings.ToLower(name), fallback: fb, hasFall: has})
		if !slices.Contains(t.names, strings.ToLower(name)) {
			t.names = append(t.names, strings.ToLower(name))
		}
		i = j + 1
	}
	flush()
	return t, nil
}

// standardField reports whether name is one of the contact's own fields
// (not a custom one).
func standardField(name string) bool {
	switch strings.ToLower(name) {
	case "first_name", "name", "company", "job_title", "email", "number":
		return true
	}
	return false
}

func isNameByte(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		return true
	case c >= '0' && c <= '9':
		return !first
	}
	return false
}

// Placeholders lists the placeholder names the template uses.
func (t *Template) Placeholders() []string { return slices.Clone(t.names) }

// Literal is the template's text with every placeholder left out (what
// every recipient gets).
func (t *Template) Literal() string {
	var b strings.Builder
	for _, s := range t.segs {
		b.WriteString(s.lit)
	}
	return b.String()
}

// Fields is what a recipient has for placeholders.
type Fields func(name string) string

// ContactFields are a contact's values: the standard fields, then its
// custom ones. A nil contact (a number typed in) has only {number}.
func ContactFields(number string, c *model.Contact) Fields {
	return func(name string) string {
		if name == "number" {
			return number
		}
		if c == nil {
			return ""
		}
		switch name {
		case "first_name":
			if c.FirstName != "" {
				return c.FirstName
			}
			first, _, _ := strings.Cut(strings.TrimSpace(c.Name), " ")
			return first
		case "name":
			return c.Name
		case "company":
			return c.Company
		case "job_title":
			return c.JobTitle
		case "email":
			return c.Email
		}
		for k, v := range c.Fields {
			if strings.EqualFold(k, name) {
				return v
			}
		}
		return ""
	}
}

// Expand fills the placeholders for one recipient. A placeholder the
// recipient lacks takes its inline fallback, else fallbacks[name]; with
// neither it is listed in missing and the text must not be sent (it is
// returned with the placeholder left empty, never raw).
func (t *Template) Expand(f Fields, fallbacks map[string]string) (text string, missing []string) {
	var b strings.Builder
	b.Grow(len(t.text) + 32)
	for _, s := range t.segs {
		if s.name == "" {
			b.WriteString(s.lit)
			continue
		}
		v := strings.TrimSpace(f(s.name))
		if v == "" {
			if s.hasFall {
				v = s.fallback
			} else if fb, ok := fallbacks[s.name]; ok {
				v = fb
			} else if !slices.Contains(missing, s.name) {
				missing = append(missing, s.name)
			}
		}
		b.WriteString(v)
	}
	return b.String(), missing
}
