package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// Groups, saved searches and templates: what a bulk send is addressed to
// and what it says. They are shared by every user (a CRM pushes its record
// groups with one token); any enabled user may read and edit them.

// GroupInput is a group as a CRM pushes it.
type GroupInput struct {
	ID      string
	Name    string
	Members []string // numbers as typed; normalised to E.164
}

// PutGroup creates or replaces the group in.ID. Members are normalised and
// de-duplicated; a bad member fails the whole call with its index.
func (s *Service) PutGroup(ctx context.Context, viewer model.ID, in GroupInput) (model.Group, error) {
	if err := s.requireUser(viewer); err != nil {
		return model.Group{}, err
	}
	v := &ValidationError{}
	if in.ID == "" || len(in.ID) > 200 {
		v.add("id", -1, in.ID, "must be 1 to 200 characters")
	}
	g := model.Group{ID: in.ID, Name: strings.TrimSpace(in.Name), UpdatedAt: s.clock.Now()}
	if g.Name == "" {
		g.Name = in.ID
	}
	seen := map[string]bool{}
	g.Members = make([]string, 0, len(in.Members))
	for i, raw := range in.Members {
		n, err := s.NormalizeNumber(raw)
		if err != nil {
			v.add("members", i, raw, err.Error())
			continue
		}
		if !seen[n] {
			seen[n] = true
			g.Members = append(g.Members, n)
		}
	}
	if err := v.errOrNil(); err != nil {
		return model.Group{}, err
	}
	if err := s.st.Update(func(tx *store.Tx) error { return tx.PutGroup(&g) }); err != nil {
		return model.Group{}, fmt.Errorf("gateway: group %s: %w", in.ID, err)
	}
	return g, nil
}

// Group reads a group (ErrNotFound).
func (s *Service) Group(ctx context.Context, viewer model.ID, id string) (model.Group, error) {
	var g model.Group
	err := s.readShared(viewer, func(tx *store.Tx) error {
		var err error
		g, err = tx.Group(id)
		return err
	})
	return g, err
}

// DeleteGroup removes a group (ErrNotFound).
func (s *Service) DeleteGroup(ctx context.Context, viewer model.ID, id string) error {
	return s.writeShared(viewer, func(tx *store.Tx) error { return tx.DeleteGroup(id) })
}

// Groups lists the groups in id order.
func (s *Service) Groups(ctx context.Context, viewer model.ID) ([]model.Group, error) {
	var out []model.Group
	err := s.readShared(viewer, func(tx *store.Tx) error {
		return tx.Groups(func(g model.Group) bool { out = append(out, g); return true })
	})
	return out, err
}

// PutSavedSearch creates or replaces a saved search over contacts.
func (s *Service) PutSavedSearch(ctx context.Context, viewer model.ID, ss model.SavedSearch) (model.SavedSearch, error) {
	if ss.ID == "" || len(ss.ID) > 200 {
		return model.SavedSearch{}, invalid("id", "must be 1 to 200 characters")
	}
	if ss.Query == (model.ContactQuery{}) {
		return model.SavedSearch{}, invalid("query", "a saved search needs at least one criterion (name, company, job_title, tag or ref_type)")
	}
	if ss.Name == "" {
		ss.Name = ss.ID
	}
	ss.UpdatedAt = s.clock.Now()
	err := s.writeShared(viewer, func(tx *store.Tx) error { return tx.PutSavedSearch(&ss) })
	return ss, err
}

// SavedSearch reads a saved search (ErrNotFound).
func (s *Service) SavedSearch(ctx context.Context, viewer model.ID, id string) (model.SavedSearch, error) {
	var ss model.SavedSearch
	err := s.readShared(viewer, func(tx *store.Tx) error {
		var err error
		ss, err = tx.SavedSearch(id)
		return err
	})
	return ss, err
}

// DeleteSavedSearch removes a saved search (ErrNotFound).
func (s *Service) DeleteSavedSearch(ctx context.Context, viewer model.ID, id string) error {
	return s.writeShared(viewer, func(tx *store.Tx) error { return tx.DeleteSavedSearch(id) })
}

// SavedSearches lists the saved searches in id order.
func (s *Service) SavedSearches(ctx context.Context, viewer model.ID) ([]model.SavedSearch, error) {
	var out []model.SavedSearch
	err := s.readShared(viewer, func(tx *store.Tx) error {
		return tx.SavedSearches(func(x model.SavedSearch) bool { out = append(out, x); return true })
	})
	return out, err
}

// MatchContact reports whether c matches q (see model.ContactQuery).
func MatchContact(c *model.Contact, q model.ContactQuery) bool {
	has := func(field, want string) bool {
		return want == "" || strings.Contains(strings.ToLower(field), strings.ToLower(strings.TrimSpace(want)))
	}
	if !has(c.Name, q.Name) || !has(c.Company, q.Company) || !has(c.JobTitle, q.JobTitle) {
		return false
	}
	if q.Tag != "" && !slices.ContainsFunc(c.Tags, func(t string) bool { return strings.EqualFold(t, strings.TrimSpace(q.Tag)) }) {
		return false
	}
	if q.RefType != "" && (c.CRM == nil || !strings.EqualFold(c.CRM.Type, strings.TrimSpace(q.RefType))) {
		return false
	}
	return true
}

// SearchContacts lists the contacts matching q, in number order.
func (s *Service) SearchContacts(ctx context.Context, viewer model.ID, q model.ContactQuery) ([]model.Contact, error) {
	var out []model.Contact
	err := s.readShared(viewer, func(tx *store.Tx) error {
		return tx.Contacts(func(c model.Contact) bool {
			if MatchContact(&c, q) {
				out = append(out, c)
			}
			return ctx.Err() == nil
		})
	})
	if err == nil {
		err = ctxErr(ctx)
	}
	return out, err
}

// TemplateInput is a template to save.
type TemplateInput struct {
	ID, Name, Text string
	Fallbacks      map[string]string
}

// PutTemplate creates or replaces a template after parsing it.
func (s *Service) PutTemplate(ctx context.Context, viewer model.ID, in TemplateInput) (model.Template, error) {
	if in.ID == "" || len(in.ID) > 200 {
		return model.Template{}, invalid("id", "must be 1 to 200 characters")
	}
	if strings.TrimSpace(in.Text) == "" {
		return model.Template{}, invalid("text", "text is empty")
	}
	if _, err := ParseTemplate(in.Text); err != nil {
		return model.Template{}, invalid("text", err.Error())
	}
	t := model.Template{ID: in.ID, Name: in.Name, Text: in.Text, UpdatedAt: s.clock.Now()}
	if t.Name == "" {
		t.Name = in.ID
	}
	for k, v := range in.Fallbacks {
		if t.Fallbacks == nil {
			t.Fallbacks = map[string]string{}
		}
		t.Fallbacks[strings.ToLower(k)] = v
	}
	err := s.writeShared(viewer, func(tx *store.Tx) error { return tx.PutTemplate(&t) })
	return t, err
}

// Template reads a saved template (ErrNotFound).
func (s *Service) Template(ctx context.Context, viewer model.ID, id string) (model.Template, error) {
	var t model.Template
	err := s.readShared(viewer, func(tx *store.Tx) error {
		var err error
		t, err = tx.Template(id)
		return err
	})
	return t, err
}

// DeleteTemplate removes a template (ErrNotFound).
func (s *Service) DeleteTemplate(ctx context.Context, viewer model.ID, id string) error {
	return s.writeShared(viewer, func(tx *store.Tx) error { return tx.DeleteTemplate(id) })
}

// Templates lists the templates in id order.
func (s *Service) Templates(ctx context.Context, viewer model.ID) ([]model.Template, error) {
	var out []model.Template
	err := s.readShared(viewer, func(tx *store.Tx) error {
		return tx.Templates(func(t model.Template) bool { out = append(out, t); return true })
	})
	return out, err
}

// requireUser fails unless viewer is an enabled user.
func (s *Service) requireUser(viewer model.ID) error {
	return s.st.View(func(tx *store.Tx) error { _, err := s.viewer(tx, viewer); return err })
}

// readShared runs fn for an enabled viewer; store.ErrNotFound becomes
// ErrNotFound.
func (s *Service) readShared(viewer model.ID, fn func(tx *store.Tx) error) error {
	return sharedErr(s.st.View(func(tx *store.Tx) error {
		if _, err := s.viewer(tx, viewer); err != nil {
			return err
		}
		return fn(tx)
	}))
}

func (s *Service) writeShared(viewer model.ID, fn func(tx *store.Tx) error) error {
	return sharedErr(s.st.Update(func(tx *store.Tx) error {
		if _, err := s.viewer(tx, viewer); err != nil {
			return err
		}
		return fn(tx)
	}))
}

func sharedErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, ErrUnauthorized), errors.Is(err, ErrForbidden):
		return err
	}
	return fmt.Errorf("gateway: %w", err)
}
