package gateway

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"strings"

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
		FirstName: strings.TrimSpace(in.FirstName), Tags: in.Tags, Fields: in.Fields}
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
