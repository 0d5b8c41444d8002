package doctor

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"slices"
	"strconv"
	"syscall"
)

// Identity is the user the daemon runs as: whose access to the data
// directory and the serial ports is checked.
type Identity struct {
	Name string
	UID  int
	GIDs []int // primary and supplementary groups
}

func (id Identity) String() string { return fmt.Sprintf("user %s", id.Name) }

// LookupIdentity finds a user by name with its groups (from /etc/passwd and
// /etc/group; no cgo needed).
func LookupIdentity(name string) (Identity, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return Identity{}, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	id := Identity{Name: u.Username, UID: uid}
	gids, err := u.GroupIds()
	if err != nil {
		return Identity{}, err
	}
	for _, g := range gids {
		n, _ := strconv.Atoi(g)
		id.GIDs = append(id.GIDs, n)
	}
	return id, nil
}

// CurrentIdentity is the user running the doctor.
func CurrentIdentity() Identity {
	id := Identity{UID: os.Geteuid()}
	if u, err := user.Current(); err == nil {
		id.Name = u.Username
	} else {
		id.Name = strconv.Itoa(id.UID)
	}
	id.GIDs = append(id.GIDs, os.Getegid())
	if gs, err := os.Getgroups(); err == nil {
		id.GIDs = append(id.GIDs, gs...)
	}
	return id
}

// may says whether id may access fi for the permission bits want (a
// combination of 4 read, 2 write, 1 execute/search), by the owner, group,
// other rule. root may do anything.
func (id Identity) may(fi fs.FileInfo, want fs.FileMode) bool {
	if id.UID == 0 {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return true // cannot tell: do not cry wolf
	}
	perm := fi.Mode().Perm()
	switch {
	case int(st.Uid) == id.UID:
		return (perm>>6)&want == want
	case slices.Contains(id.GIDs, int(st.Gid)):
		return (perm>>3)&want == want
	default:
		return perm&want == want
	}
}

// describe says who owns fi and how: "owner root, group dialout, rw-rw----".
func describe(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fi.Mode().Perm().String()
	}
	return fmt.Sprintf("owner %s, group %s, %s", userName(st.Uid), groupName(st.Gid), fi.Mode().Perm().String()[1:])
}

func userName(uid uint32) string {
	if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
		return u.Username
	}
	return strconv.Itoa(int(uid))
}

func groupName(gid uint32) string {
	if g, err := user.LookupGroupId(strconv.Itoa(int(gid))); err == nil {
		return g.Name
	}
	return strconv.Itoa(int(gid))
}
