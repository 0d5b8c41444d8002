package gateway

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/gsmgate/gsmgate/gateway/model"
	"github.com/gsmgate/gsmgate/gateway/store"
)

// The visibility rules are in the package doc (# Visibility); viewer and
// canSee apply them. What a user may not see is reported as ErrNotFound.

func (s *Service) viewer(tx *store.Tx, id model.ID) (model.User, error) {
	u, err := tx.User(id)
	if err != nil || u.Disabled {
		return model.User{}, ErrUnauthorized
	}
	return u, nil
}

// canSee applies the visibility rules to one message.
func canSee(tx *store.Tx, u model.User, m *model.Message) bool {
	if u.Role == model.RoleAdmin {
		return true
	}
	if m.Direction == model.Outgoing && m.UserID == u.ID {
		return true
	}
	if u.Visibility == model.VisibilityOwn {
		return false
	}
	return inConversation(tx, u, m.Number)
}

// inConversation: u (incoming_and_outgoing) is associated with number.
func inConversation(tx *store.Tx, u model.User, number string) bool {
	c, err := tx.ConversationView(number)
	return err == nil && slices.Contains(c.Users, u.ID)
}

// ConversationQuery selects a page of a user's conversation list.
type ConversationQuery struct {
	// Unassigned lists the unassigned inbox instead (admins only).
	Unassigned bool
	// All lists every conversation by its last message (admins only).
	All bool
	// IncludeMarketing, when set, overrides the user's
	// include_marketed_when_sorting for this listing (the API's
	// include_marketing parameter).
	IncludeMarketing *bool
	Page
}

// Conversations lists the viewer's conversations, most recent first.
func (s *Service) Conversations(ctx context.Context, viewer model.ID, q ConversationQuery) (Paged[model.Conversation], error) {
	var page Paged[model.Conversation]
	if err := ctxErr(ctx); err != nil {
		return page, err
	}
	limit := q.limit(50, 500)
	cursor, err := q.keyCursor()
	if err != nil {
		return page, err
	}
	err = s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		var refs []store.ConvRef
		if (q.Unassigned || q.All) && u.Role != model.RoleAdmin {
			return ErrForbidden
		}
		if q.Unassigned {
			refs = tx.UnassignedConversations(cursor, limit+1)
		} else if q.All {
			refs = tx.RecentConversations(cursor, limit+1)
		} else {
			mkt := u.IncludeMarketedWhenSorting
			if q.IncludeMarketing != nil {
				mkt = *q.IncludeMarketing
			}
			refs = tx.UserConversations(u.ID, !mkt, cursor, limit+1)
		}
		if len(refs) > limit {
			refs = refs[:limit]
			page.Next = keyNext(refs[limit-1].Cursor)
		}
		for _, r := range refs {
			item, ok, err := convItem(tx, u, r.Number)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			item.Unassigned = q.Unassigned || (q.All && tx.IsUnassigned(r.Number))
			if m, err := tx.Message(r.SortID); err == nil {
				item.SortAt = m.CreatedAt
			} else {
				item.SortAt = r.SortID.Time() // purged by retention
			}
			page.Items = append(page.Items, item)
		}
		return nil
	})
	return page, err
}

// convItem builds the row of the conversation with number as u sees it
// (without SortAt and Unassigned, which depend on the listing); ok is false
// when u may see nothing of it: it is gone, or u is outgoing_only and sent
// nothing there (u was associated with an incoming message while in the
// other mode, or their messages were purged).
func convItem(tx *store.Tx, u model.User, number string) (item model.Conversation, ok bool, err error) {
	conv, err := tx.ConversationView(number)
	if err != nil {
		return item, false, nil
	}
	item.Number = number
	if u.Visibility == model.VisibilityOwn && u.Role != model.RoleAdmin {
		last, ok, err := tx.LastSentMessage(u.ID, number)
		if err != nil || !ok {
			return item, false, err
		}
		item.Last = last
	} else {
		item.Count = conv.Count
		if item.Last, err = tx.Message(conv.LastMessageID); err != nil {
			return item, false, err
		}
	}
	if c, err := tx.Contact(number); err == nil {
		item.Contact = &c
	}
	item.Unread = tx.Unread(u.ID, number)
	return item, true, nil
}

// ThreadMessage is one message of a thread as a user sees it.
type ThreadMessage struct {
	model.Message
	// Author is the sending user's name for outgoing messages.
	Author string
	// Own is set on the viewer's own outgoing messages.
	Own bool
}

// ThreadPage is a page of a thread, oldest first.
type ThreadPage struct {
	Number   string
	Messages []ThreadMessage
	// Next is the cursor of the page of older messages, "" when there is
	// none.
	Next    string
	Contact *model.Contact
}

// ConversationNumber reads a conversation number from a URL or form: E.164
// after normalisation, or as given for an alphanumeric sender.
func (s *Service) ConversationNumber(raw string) string {
	if n, err := s.NormalizeNumber(raw); err == nil {
		return n
	}
	return strings.TrimSpace(raw)
}

// Thread loads the messages with number that the viewer may see, oldest
// first. ErrNotFound when the viewer may see none of the conversation.
func (s *Service) Thread(ctx context.Context, viewer model.ID, number string, q Page) (ThreadPage, error) {
	if err := ctxErr(ctx); err != nil {
		return ThreadPage{}, err
	}
	limit := q.limit(50, 500)
	before, err := q.idCursor()
	if err != nil {
		return ThreadPage{}, err
	}
	number = s.ConversationNumber(number)
	page := ThreadPage{Number: number}
	err = s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		var msgs []model.Message
		p := store.Page{Before: before, Limit: limit + 1}
		switch {
		case u.Role == model.RoleAdmin:
			msgs, err = tx.ConversationMessages(number, p)
		case u.Visibility == model.VisibilityOwn:
			msgs, err = tx.UserSentMessages(u.ID, number, p)
		case inConversation(tx, u, number):
			msgs, err = tx.ConversationMessages(number, p)
		default:
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if len(msgs) == 0 && before == 0 {
			return ErrNotFound
		}
		if len(msgs) > limit {
			msgs = msgs[:limit]
			page.Next = msgs[limit-1].ID.String()
		}
		names := map[model.ID]string{}
		page.Messages = make([]ThreadMessage, len(msgs))
		for i, m := range msgs {
			tm := ThreadMessage{Message: m, Own: m.Direction == model.Outgoing && m.UserID == u.ID}
			if m.Direction == model.Outgoing && m.UserID != 0 {
				name, ok := names[m.UserID]
				if !ok {
					if au, err := tx.User(m.UserID); err == nil {
						name = au.Name
					}
					names[m.UserID] = name
				}
				tm.Author = name
			}
			page.Messages[len(msgs)-1-i] = tm // newest-first scan, oldest-first page
		}
		if c, err := tx.Contact(number); err == nil {
			page.Contact = &c
		}
		return nil
	})
	return page, err
}

// MessageDetail is one message with its parts.
type MessageDetail struct {
	model.Message
	Parts  []model.Part
	Author string
}

// Message loads one message the viewer may see (ErrNotFound otherwise).
func (s *Service) Message(ctx context.Context, viewer, id model.ID) (MessageDetail, error) {
	var d MessageDetail
	err := s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		m, err := tx.Message(id)
		if err != nil || !canSee(tx, u, &m) {
			return ErrNotFound
		}
		d.Message = m
		if d.Parts, err = tx.Parts(id); err != nil {
			return err
		}
		if m.UserID != 0 {
			if au, err := tx.User(m.UserID); err == nil {
				d.Author = au.Name
			}
		}
		return nil
	})
	return d, err
}

// MessageQuery selects a page of messages.
type MessageQuery struct {
	// State filters on one state ("" for all).
	State model.State
	// Batch lists the messages of one Send (no paging).
	Batch model.ID
	// Number lists that conversation (as Thread does, newest first); a
	// conversation the viewer may not see lists nothing.
	Number string
	// Since stops the listing at messages created before it.
	Since time.Time
	Page
}

// Messages lists the messages the viewer may see, newest first. For an
// admin a state filter is a range scan of the state index; for others it
// filters their own index.
func (s *Service) Messages(ctx context.Context, viewer model.ID, q MessageQuery) (Paged[model.Message], error) {
	var out Paged[model.Message]
	if err := ctxErr(ctx); err != nil {
		return out, err
	}
	if q.State != "" && !q.State.Valid() {
		return out, invalid("state", fmt.Sprintf("one of queued, submitting, sent, delivered, failed, unknown, cancelled, expired; not %q", q.State))
	}
	limit := q.limit(50, 1000)
	before, err := q.idCursor()
	if err != nil {
		return out, err
	}
	switch {
	case q.Batch != 0:
		out.Items, err = s.batch(viewer, q.Batch, q.State)
	case q.Number != "":
		var tp ThreadPage
		tp, err = s.Thread(ctx, viewer, q.Number, q.Page)
		if errors.Is(err, ErrNotFound) {
			return out, nil
		}
		for i := len(tp.Messages) - 1; i >= 0; i-- {
			if q.State == "" || tp.Messages[i].State == q.State {
				out.Items = append(out.Items, tp.Messages[i].Message)
			}
		}
		out.Next = tp.Next
	default:
		out.Items, err = s.messages(viewer, q.State, before, limit)
		if len(out.Items) == limit {
			out.Next = out.Items[limit-1].ID.String()
		}
	}
	if err != nil {
		return Paged[model.Message]{}, err
	}
	if !q.Since.IsZero() {
		for i, m := range out.Items {
			if m.CreatedAt.Before(q.Since) {
				out.Items, out.Next = out.Items[:i], ""
				break
			}
		}
	}
	return out, nil
}

// batch lists the messages of one send the viewer may see.
func (s *Service) batch(viewer, batch model.ID, state model.State) ([]model.Message, error) {
	var out []model.Message
	err := s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		msgs, err := tx.BatchMessages(batch)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if canSee(tx, u, &m) && (state == "" || m.State == state) {
				out = append(out, m)
			}
		}
		return nil
	})
	return out, err
}

func (s *Service) messages(viewer model.ID, state model.State, before model.ID, limit int) ([]model.Message, error) {
	var out []model.Message
	err := s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		for len(out) < limit {
			var page []model.Message
			p := store.Page{Before: before, Limit: 200}
			switch {
			case u.Role == model.RoleAdmin && state != "":
				page, err = tx.MessagesByState(state, p)
			case u.Role == model.RoleAdmin:
				page, err = tx.AllMessages(p)
			default:
				page, err = tx.UserMessages(u.ID, false, p)
			}
			if err != nil {
				return err
			}
			for _, m := range page {
				if (state == "" || m.State == state) && canSee(tx, u, &m) {
					out = append(out, m)
					if len(out) == limit {
						break
					}
				}
			}
			if len(page) < 200 {
				break
			}
			before = page[len(page)-1].ID
		}
		return nil
	})
	return out, err
}

// SearchResult holds what matched a search.
type SearchResult struct {
	// Conversations matched by number or contact name.
	Conversations []model.Conversation
	// Messages matched by text, newest first.
	Messages []model.Message
}

// SearchScanLimit bounds the text search: it looks at this many of the
// newest messages the viewer may see.
const SearchScanLimit = 20000

// Search finds, among what the viewer may see, conversations whose number
// contains the query's digits or whose contact's name contains the query,
// and messages whose text contains it (case-insensitive).
func (s *Service) Search(ctx context.Context, viewer model.ID, query string, limit int) (SearchResult, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return SearchResult{}, invalid("q", "empty search")
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	lq := strings.ToLower(query)
	digits := strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) {
			return r
		}
		return -1
	}, query)
	numeric := len(digits) >= 3 && strings.Trim(query, "+0123456789 -()") == ""
	var res SearchResult
	err := s.st.View(func(tx *store.Tx) error {
		u, err := s.viewer(tx, viewer)
		if err != nil {
			return err
		}
		visibleConv := func(number string) bool {
			if u.Role == model.RoleAdmin {
				_, err := tx.ConversationView(number)
				return err == nil
			}
			if !tx.HasConversation(u.ID, number) {
				return false
			}
			return u.Visibility == model.VisibilityOwn || inConversation(tx, u, number)
		}
		seen := map[string]bool{}
		addConv := func(number string) {
			if seen[number] || len(res.Conversations) >= limit {
				return
			}
			seen[number] = true
			item, ok, err := convItem(tx, u, number)
			if err != nil || !ok {
				return
			}
			item.SortAt = item.Last.CreatedAt
			item.Unassigned = u.Role == model.RoleAdmin && tx.IsUnassigned(number)
			res.Conversations = append(res.Conversations, item)
		}
		if numeric {
			match := func(number string) bool {
				if strings.Contains(number, digits) {
					addConv(number)
				}
				return len(res.Conversations) < limit
			}
			if u.Role == model.RoleAdmin {
				if err := tx.AllConversations(func(c store.Conversation) bool { return match(c.Number) }); err != nil {
					return err
				}
			} else {
				tx.UserConvNumbers(u.ID, func(n string) bool {
					if !visibleConv(n) {
						return true
					}
					return match(n)
				})
			}
		}
		if err := tx.Contacts(func(c model.Contact) bool {
			if !strings.Contains(strings.ToLower(c.Name), lq) && !strings.Contains(strings.ToLower(c.Company), lq) {
				return true
			}
			for _, n := range append([]string{c.Number}, phoneNumbers(c.Phones)...) {
				if visibleConv(n) {
					addConv(n)
				}
			}
			return len(res.Conversations) < limit
		}); err != nil {
			return err
		}
		// Text search: memoise the per-number visibility check.
		seeNumber := map[string]bool{}
		canSeeMsg := func(m *model.Message) bool {
			if u.Role == model.RoleAdmin || (m.Direction == model.Outgoing && m.UserID == u.ID) {
				return true
			}
			if u.Visibility == model.VisibilityOwn {
				return false
			}
			ok, known := seeNumber[m.Number]
			if !known {
				ok = inConversation(tx, u, m.Number)
				seeNumber[m.Number] = ok
			}
			return ok
		}
		scanned := 0
		var before model.ID
		for scanned < SearchScanLimit && len(res.Messages) < limit {
			var page []model.Message
			p := store.Page{Before: before, Limit: 500}
			if u.Role == model.RoleAdmin || u.Visibility == model.VisibilityAll {
				page, err = tx.AllMessages(p)
			} else {
				page, err = tx.UserMessages(u.ID, false, p)
			}
			if err != nil {
				return err
			}
			for _, m := range page {
				if strings.Contains(strings.ToLower(m.Text), lq) && canSeeMsg(&m) {
					res.Messages = append(res.Messages, m)
					if len(res.Messages) == limit {
						break
					}
				}
			}
			scanned += len(page)
			if len(page) < 500 {
				break
			}
			before = page[len(page)-1].ID
		}
		return nil
	})
	return res, err
}

func phoneNumbers(ps []model.Phone) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Number
	}
	return out
}
