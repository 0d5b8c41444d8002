package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gsmgate/gsmgate/gateway/store"
)

// Setting reads the setting name into v (JSON). found is false when it was
// never set (v is then untouched, keeping the caller's default).
func (s *Service) Setting(ctx context.Context, name string, v any) (found bool, err error) {
	err = s.st.View(func(tx *store.Tx) error { return tx.Setting(name, v) })
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("gateway: setting %s: %w", name, err)
	}
	return true, nil
}

// PutSetting stores v (JSON) as the setting name.
func (s *Service) PutSetting(ctx context.Context, name string, v any) error {
	if name == "" {
		return invalid("name", "empty setting name")
	}
	if err := s.st.Update(func(tx *store.Tx) error { return tx.PutSetting(name, v) }); err != nil {
		return fmt.Errorf("gateway: setting %s: %w", name, err)
	}
	return nil
}

// Settings returns every setting as raw JSON.
func (s *Service) Settings(ctx context.Context) (map[string]json.RawMessage, error) {
	var out map[string]json.RawMessage
	err := s.st.View(func(tx *store.Tx) error { out = tx.Settings(); return nil })
	return out, err
}
