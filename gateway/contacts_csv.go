package gateway

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// Contacts as CSV: UTF-8 (a byte-order mark is skipped), comma or
// semicolon separated (whichever the header uses), a header row naming the
// columns. Known headers map to fields (case, spaces and dashes ignored);
// any other column becomes a custom field usable in templates.

// csvColumn maps a header, lower-cased with spaces and dashes as "_", to
// a contact field.
func csvColumn(key string) (string, bool) {
	switch key {
	case "number", "phone", "mobile", "mobile_phone", "phone_number", "msisdn":
		return "number", true
	case "name", "full_name":
		return "name", true
	case "first_name", "firstname", "given_name":
		return "first_name", true
	case "company", "organisation", "organization":
		return "company", true
	case "job_title", "title", "position":
		return "job_title", true
	case "email", "e_mail":
		return "email", true
	case "tags", "crm_url":
		return key, true
	}
	return "", false
}

// maxImportLines bounds one import (a larger file is refused whole).
const maxImportLines = 100000

// LineError is a bad line of an imported file.
type LineError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// ImportResult says what an import did.
type ImportResult struct {
	// Created and Updated count the contacts written (zero when the file
	// had bad lines and was not imported).
	Created int         `json:"created"`
	Updated int         `json:"updated"`
	Errors  []LineError `json:"errors"`
	// Imported is false when nothing was written.
	Imported bool `json:"imported"`
}

// ParseContactsCSV reads a contacts file into contacts (numbers normalised
// with normalize) and the bad lines, each with its 1-based line number and
// reason. A number listed twice is a bad line naming the first. It never
// writes anything.
func ParseContactsCSV(r io.Reader, normalize func(string) (string, error)) ([]model.Contact, []LineError, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20+1))
	if err != nil {
		return nil, nil, fmt.Errorf("gateway: read contacts file: %w", err)
	}
	if len(data) > 64<<20 {
		return nil, []LineError{{Line: 0, Reason: "the file is larger than 64 MiB"}}, nil
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, []LineError{{Line: 1, Reason: "the file is empty: want a header row and one contact a line"}}, nil
	}
	header, _, _ := bytes.Cut(data, []byte("\n"))
	cr := csv.NewReader(bytes.NewReader(data))
	if bytes.Count(header, []byte(";")) > bytes.Count(header, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	var errs []LineError
	var cols []string
	var out []model.Contact
	first := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs = append(errs, LineError{Line: pe.StartLine, Reason: "not valid CSV: " + pe.Err.Error()})
				if cols == nil {
					return nil, errs, nil
				}
				continue
			}
			return nil, nil, fmt.Errorf("gateway: read contacts file: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if cols == nil {
			cols, err = csvHeader(rec)
			if err != nil {
				return nil, []LineError{{Line: line, Reason: err.Error()}}, nil
			}
			continue
		}
		if len(out)+len(errs) >= maxImportLines {
			return nil, []LineError{{Line: line, Reason: fmt.Sprintf("more than %d contacts in one file", maxImportLines)}}, nil
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		c, reason := csvContact(cols, rec, normalize)
		if reason != "" {
			errs = append(errs, LineError{Line: line, Reason: reason})
			continue
		}
		if at, dup := first[c.Number]; dup {
			errs = append(errs, LineError{Line: line, Reason: fmt.Sprintf("same number %s as line %d", c.Number, at)})
			continue
		}
		first[c.Number] = line
		out = append(out, c)
	}
	if cols == nil {
		return nil, []LineError{{Line: 1, Reason: "no header row"}}, nil
	}
	return out, errs, nil
}

// csvHeader maps the header row to fields ("" for a custom field named by
// the header itself, kept as "field:NAME").
func csvHeader(rec []string) ([]string, error) {
	cols := make([]string, len(rec))
	hasNumber := false
	seen := map[string]bool{}
	for i, h := range rec {
		if !utf8.ValidString(h) {
			return nil, fmt.Errorf("header column %d is not UTF-8", i+1)
		}
		key := strings.ToLower(strings.TrimSpace(h))
		key = strings.NewReplacer(" ", "_", "-", "_").Replace(key)
		if key == "" {
			return nil, fmt.Errorf("header column %d is empty", i+1)
		}
		f, ok := csvColumn(key)
		if !ok {
			f = "field:" + key
		}
		if seen[f] {
			return nil, fmt.Errorf("header column %d (%q) repeats a column", i+1, h)
		}
		seen[f] = true
		cols[i] = f
		hasNumber = hasNumber || f == "number"
	}
	if !hasNumber {
		return nil, errors.New("the header has no number column (number, phone or mobile)")
	}
	return cols, nil
}

func csvContact(cols, rec []string, normalize func(string) (string, error)) (model.Contact, string) {
	if len(rec) > len(cols) {
		return model.Contact{}, fmt.Sprintf("%d columns; the header has %d", len(rec), len(cols))
	}
	var c model.Contact
	for i, v := range rec {
		if !utf8.ValidString(v) {
			return model.Contact{}, fmt.Sprintf("column %d is not UTF-8", i+1)
		}
		v = strings.TrimSpace(v)
		switch f := cols[i]; f {
		case "number":
			if v == "" {
				return model.Contact{}, "no number"
			}
			n, err := normalize(v)
			if err != nil {
				return model.Contact{}, fmt.Sprintf("number %q: %v", v, err)
			}
			c.Number = n
		case "name":
			c.Name = v
		case "first_name":
			c.FirstName = v
		case "company":
			c.Company = v
		case "job_title":
			c.JobTitle = v
		case "email":
			if v != "" {
				if _, err := mail.ParseAddress(v); err != nil {
					return model.Contact{}, fmt.Sprintf("email %q is not an e-mail address", v)
				}
			}
			c.Email = v
		case "tags":
			for _, t := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' || r == '|' }) {
				if t = strings.TrimSpace(t); t != "" && !slices.Contains(c.Tags, t) {
					c.Tags = append(c.Tags, t)
				}
			}
		case "crm_url":
			c.CRMURL = v
		default:
			if v != "" {
				if c.Fields == nil {
					c.Fields = map[string]string{}
				}
				c.Fields[strings.TrimPrefix(f, "field:")] = v
			}
		}
	}
	if c.Number == "" {
		return model.Contact{}, "no number"
	}
	c.Phones = []model.Phone{{Number: c.Number, Label: "sms"}}
	return c, ""
}

// ImportContacts reads a contacts CSV file and writes its contacts in one
// transaction (a contact already stored under the number is replaced,
// keeping its other phones and CRM link). With any bad line nothing is
// written unless skipBad is set; every bad line is reported either way.
func (s *Service) ImportContacts(ctx context.Context, viewer model.ID, r io.Reader, skipBad bool) (ImportResult, error) {
	if err := s.requireUser(viewer); err != nil {
		return ImportResult{}, err
	}
	contacts, errs, err := ParseContactsCSV(r, s.NormalizeNumber)
	if err != nil {
		return ImportResult{}, err
	}
	res := ImportResult{Errors: errs}
	if res.Errors == nil {
		res.Errors = []LineError{}
	}
	if (len(errs) > 0 && !skipBad) || len(contacts) == 0 {
		return res, nil
	}
	now := s.clock.Now()
	err = s.st.Update(func(tx *store.Tx) error {
		res.Created, res.Updated = 0, 0
		for i := range contacts {
			c := contacts[i]
			c.UpdatedAt = now
			if old, err := tx.Contact(c.Number); err == nil && old.Number == c.Number {
				c.CRM, c.Phones = old.CRM, mergePhones(old.Phones, c.Phones)
				if c.CRMURL == "" {
					c.CRMURL = old.CRMURL
				}
				res.Updated++
			} else {
				res.Created++
			}
			if err := tx.PutContact(&c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ImportResult{Errors: res.Errors}, fmt.Errorf("gateway: import contacts: %w", err)
	}
	res.Imported = true
	s.log.Info("contacts imported", "created", res.Created, "updated", res.Updated, "bad_lines", len(errs))
	return res, nil
}

func mergePhones(old, add []model.Phone) []model.Phone {
	out := slices.Clone(add)
	for _, p := range old {
		if !slices.ContainsFunc(out, func(q model.Phone) bool { return q.Number == p.Number }) {
			out = append(out, p)
		}
	}
	return out
}

// ExportContacts writes every contact as CSV (UTF-8, a header row, the
// custom fields as extra columns sorted by name), which ImportContacts
// reads back.
func (s *Service) ExportContacts(ctx context.Context, viewer model.ID, w io.Writer) error {
	var all []model.Contact
	extra := map[string]bool{}
	if err := s.readShared(viewer, func(tx *store.Tx) error {
		return tx.Contacts(func(c model.Contact) bool {
			all = append(all, c)
			for k := range c.Fields {
				extra[k] = true
			}
			return ctx.Err() == nil
		})
	}); err != nil {
		return err
	}
	names := make([]string, 0, len(extra))
	for k := range extra {
		names = append(names, k)
	}
	sort.Strings(names)
	cw := csv.NewWriter(w)
	_ = cw.Write(append([]string{"number", "name", "first_name", "company", "job_title", "email", "tags", "crm_url"}, names...))
	for _, c := range all {
		row := []string{c.Number, c.Name, c.FirstName, c.Company, c.JobTitle, c.Email, strings.Join(c.Tags, ";"), c.CRMURL}
		for _, k := range names {
			row = append(row, c.Fields[k])
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}
