package gateway

import (
	"context"
	"fmt"
	"maps"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// ContactInput is a record card as a CRM pushes it. Number is the default
// SMS number; Phones may list more (the default is added when missing).
type ContactInput struct {
	Number   string
	Name     string
	JobTitle string
	Company  string
	Email    string
	Phones   []model.Phone
	CRMURL   string
	CRM      *model.CRMRef
	// FirstName, Tags and Fields (custom fields) feed templates and saved
	// searches.
	FirstName string
	Tags      []string
	Fields    map[string]string
}

// UpsertContact creates or replaces the contact whose default number is
// in.Number (normalised to E.164; phones too, with errors by index).
func (s *Service) UpsertContact(ctx context.Context, in ContactInput) (model.Contact, error) {
	if err := ctxErr(ctx); err != nil {
		return model.Contact{}, err
	}
	v := &ValidationError{}
	number, err := s.NormalizeNumber(in.Number)
	if err != nil {
		v.add("number", -1, in.Number, err.Error())
	}
	if in.Email != "" {
		if _, err := mail.ParseAddress(in.Email); err != nil {
			v.add("email", -1, in.Email, "not an e-mail address")
		}
	}
	if in.CRMURL != "" {
		if u, err := url.Parse(in.CRMURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.add("crm_url", -1, in.CRMURL, "not an http(s) URL")
		}
	}
	c := model.Contact{Number: number, Name: strings.TrimSpace(in.Name), JobTitle: in.JobTitle, Company: in.Company,
		Email: in.Email, CRMURL: in.CRMURL, CRM: in.CRM, UpdatedAt: s.clock.Now(),
		FirstName: strings.TrimSpace(in.FirstName), Tags: contactTags(v, in.Tags), Fields: contactFields(v, in.Fields)}
	hasDefault := false
	for i, p := range in.Phones {
		n, err := s.NormalizeNumber(p.Number)
		if err != nil {
			v.add("phones", i, p.Number, err.Error())
			continue
		}
		if n == number {
			hasDefault = true
		}
		c.Phones = append(c.Phones, model.Phone{Number: n, Label: p.Label})
	}
	if err := v.errOrNil(); err != nil {
		return model.Contact{}, err
	}
	if !hasDefault {
		c.Phones = append([]model.Phone{{Number: number, Label: "sms"}}, c.Phones...)
	}
	if err := s.st.Update(func(tx *store.Tx) error { return tx.PutContact(&c) }); err != nil {
		return model.Contact{}, fmt.Errorf("gateway: contact %s: %w", number, err)
	}
	return c, nil
}

// Limits of a contact's tags and custom fields as a CRM pushes them.
const (
	maxContactTags    = 100
	maxContactTagLen  = 100
	maxContactFields  = 50
	maxFieldNameLen   = 64
	maxFieldValueLen  = 500
	tagSeparatorChars = ",;|"
)

// contactTags checks and tidies pushed tags: trimmed, duplicates dropped.
// A tag may not hold the separators a CSV file splits tags on (export
// joins with ';'), or it would come back as two tags after a round trip.
func contactTags(v *ValidationError, tags []string) []string {
	if len(tags) > maxContactTags {
		v.add("tags", -1, "", fmt.Sprintf("%d tags; at most %d", len(tags), maxContactTags))
		return nil
	}
	var out []string
	for i, t := range tags {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
			v.add("tags", i, t, "empty tag")
		case utf8.RuneCountInString(t) > maxContactTagLen:
			v.add("tags", i, t, fmt.Sprintf("longer than %d characters", maxContactTagLen))
		case strings.ContainsAny(t, tagSeparatorChars):
			v.add("tags", i, t, "a tag may not contain , ; or |")
		case strings.ContainsFunc(t, unicode.IsControl):
			v.add("tags", i, t, "a tag may not contain control characters")
		case !slices.Contains(out, t):
			out = append(out, t)
		}
	}
	return out
}

// contactFields checks pushed custom fields. A name must be usable as a
// template placeholder ({plan}: letters, digits, '_', not starting with a
// digit) and is stored lower-case, as CSV import stores header names; it
// may not be a standard field's name (the standard field would always win
// in a template). An empty value is the field left out.
func contactFields(v *ValidationError, fields map[string]string) map[string]string {
	if len(fields) > maxContactFields {
		v.add("fields", -1, "", fmt.Sprintf("%d custom fields; at most %d", len(fields), maxContactFields))
		return nil
	}
	names := slices.Sorted(maps.Keys(fields)) // errors in a stable order
	var out map[string]string
	seen := map[string]bool{}
	for _, name := range names {
		key := strings.ToLower(name)
		field := "fields." + name
		val := strings.TrimSpace(fields[name])
		switch {
		case !placeholderName(key):
			v.add(field, -1, name, "a custom field's name is letters, digits and _, not starting with a digit, at most 64 characters")
		case standardField(key):
			v.add(field, -1, name, fmt.Sprintf("%q is a standard field; set it directly", key))
		case seen[key]:
			v.add(field, -1, name, fmt.Sprintf("repeats the field %q (names ignore case)", key))
		case utf8.RuneCountInString(val) > maxFieldValueLen:
			v.add(field, -1, "", fmt.Sprintf("the value is longer than %d characters", maxFieldValueLen))
		case val != "":
			seen[key] = true
			if out == nil {
				out = map[string]string{}
			}
			out[key] = val
		}
	}
	return out
}

// placeholderName reports whether name can be written as {name} in a
// template (the rule ParseTemplate reads names by).
func placeholderName(name string) bool {
	if name == "" || len(name) > maxFieldNameLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i], i == 0) {
			return false
		}
	}
	return true
}

// Contact reads the contact that has number among its phones.
func (s *Service) Contact(ctx context.Context, number string) (model.Contact, error) {
	number = s.ConversationNumber(number)
	var c model.Contact
	err := s.st.View(func(tx *store.Tx) error {
		var err error
		c, err = tx.Contact(number)
		return err
	})
	if err != nil {
		return model.Contact{}, ErrNotFound
	}
	return c, nil
}

// DeleteContact removes the contact that has number among its phones.
func (s *Service) DeleteContact(ctx context.Context, number string) error {
	number = s.ConversationNumber(number)
	err := s.st.Update(func(tx *store.Tx) error { return tx.DeleteContact(number) })
	if err != nil {
		return ErrNotFound
	}
	return nil
}

// Contacts lists contacts whose name or company contains query (all when
// empty), at most limit (default 100).
func (s *Service) Contacts(ctx context.Context, query string, limit int) ([]model.Contact, error) {
	if limit <= 0 {
		limit = 100
	}
	lq := strings.ToLower(strings.TrimSpace(query))
	var out []model.Contact
	err := s.st.View(func(tx *store.Tx) error {
		return tx.Contacts(func(c model.Contact) bool {
			if lq == "" || strings.Contains(strings.ToLower(c.Name), lq) || strings.Contains(strings.ToLower(c.Company), lq) {
				out = append(out, c)
			}
			return len(out) < limit
		})
	})
	return out, err
}
