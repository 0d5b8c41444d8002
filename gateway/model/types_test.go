package model

import (
	"fmt"
	"testing"
)

// String and MarshalText write 16 lower-case hex digits, as %016x does, and
// ParseID reads them back.
func TestIDText(t *testing.T) {
	for _, v := range []uint64{0, 1, 0xabcdef, 1<<63 | 5, ^uint64(0)} {
		id := ID(v)
		want := fmt.Sprintf("%016x", v)
		b, _ := id.MarshalText()
		if id.String() != want || string(b) != want {
			t.Errorf("%d: String %q, MarshalText %q; want %q", v, id.String(), b, want)
		}
		if back, err := ParseID(id.String()); err != nil || back != id {
			t.Errorf("ParseID(%q) = %v, %v", id.String(), back, err)
		}
	}
}
