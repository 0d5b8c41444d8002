package gateway

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gsmgate/gsmgate/gateway/model"
)

// FuzzParseTemplate: any text parses or fails with a *TemplateError; a
// parsed template expanded with every field present leaves no placeholder
// it listed in the output raw and reports nothing missing.
func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"Hi {first_name}", "{name|there} {company}", "{{", "{", "{first_name", "{a|b}", "{x|{y}}", "}{", "Zoë {job_title}!", "{1}{_a9}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tp, err := ParseTemplate(text)
		if err != nil {
			var te *TemplateError
			if !errors.As(err, &te) || te.Offset < 0 || te.Offset > len(text) {
				t.Fatalf("ParseTemplate(%q) = %v", text, err)
			}
			return
		}
		out, missing := tp.Expand(func(name string) string { return "V" }, nil)
		if len(missing) != 0 {
			t.Fatalf("every field present, yet missing %v", missing)
		}
		for _, n := range tp.Placeholders() {
			if strings.Contains(out, "{"+n+"}") && !strings.Contains(text, "{{"+n+"}") && !strings.Contains(text, "{"+n+"}}") {
				// A raw placeholder may only come from escaped braces.
				if strings.Count(out, "{"+n+"}") > strings.Count(text, "{{"+n+"}") {
					t.Fatalf("%q expanded to %q with {%s} raw", text, out, n)
				}
			}
		}
		if utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 %q expanded to invalid %q", text, out)
		}
	})
}

// FuzzParseContactsCSV: any file yields contacts and line errors, never a
// panic; every contact has a normalised number, no number twice, and every
// line error a line number within the file.
func FuzzParseContactsCSV(f *testing.F) {
	for _, s := range []string{
		"number,name\n+447911123201,Ada\n",
		"\xef\xbb\xbfMobile;Name;Team\n07911 123201;Zoë;R&D\nbanana;x;y\n",
		"name\nAda\n",
		"number,number\n1,2\n",
		"number,name\n\"unclosed,x\n",
		"",
		"number\n+447911123201\n+447911123201\n",
	} {
		f.Add(s)
	}
	norm := func(s string) (string, error) {
		d := strings.TrimPrefix(strings.ReplaceAll(s, " ", ""), "+")
		if d == "" || strings.Trim(d, "0123456789") != "" || len(d) > 15 {
			return "", errors.New("not a number")
		}
		return "+" + d, nil
	}
	f.Fuzz(func(t *testing.T, file string) {
		cs, errs, err := ParseContactsCSV(strings.NewReader(file), norm)
		if err != nil {
			t.Fatalf("ParseContactsCSV: %v", err)
		}
		lines := strings.Count(file, "\n") + 1
		for _, e := range errs {
			if e.Line < 0 || e.Line > lines || e.Reason == "" {
				t.Fatalf("line error %+v in a file of %d lines", e, lines)
			}
		}
		seen := map[string]bool{}
		for _, c := range cs {
			if !strings.HasPrefix(c.Number, "+") || seen[c.Number] {
				t.Fatalf("contact %+v (seen %v)", c, seen[c.Number])
			}
			seen[c.Number] = true
			checkUTF8(t, c)
		}
	})
}

func checkUTF8(t *testing.T, c model.Contact) {
	for _, s := range []string{c.Name, c.FirstName, c.Company, c.JobTitle, c.Email} {
		if !utf8.ValidString(s) {
			t.Fatalf("contact field %q is not UTF-8", s)
		}
	}
}
