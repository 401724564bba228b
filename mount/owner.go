package mount

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// ErrNotOwner: the mount belongs to another user; only they or root may end it.
var ErrNotOwner = errors.New("not your mount")

// mountOwner is the user a FUSE mount on dir belongs to: the user_id= of its
// superblock options in mountinfo ("... - fuse.ggufs ggufs rw,user_id=1000,...").
func mountOwner(dir string) (uid int, ok bool) {
	f, err := os.Open(mountinfoFile)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		e, valid := parseMountinfo(line)
		if !valid || e.Point != dir {
			continue
		}
		if id, found := superUserID(line); found {
			uid, ok = id, true // the last entry wins: it is on top
		}
	}
	return uid, ok
}

// superUserID reads user_id=N from a mountinfo line's superblock options.
func superUserID(line string) (int, bool) {
	_, after, _ := strings.Cut(line, " - ")
	tail := strings.Fields(after)
	if len(tail) < 3 {
		return 0, false
	}
	for _, opt := range strings.Split(tail[2], ",") {
		if v, ok := strings.CutPrefix(opt, "user_id="); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil && n >= 0
		}
	}
	return 0, false
}

// checkOwner refuses, in one line, to unmount another user's mount as a user
// who is not root: fusermount3 would only say its entry is not in /etc/mtab.
func checkOwner(dir string) error {
	me := os.Getuid()
	uid, ok := mountOwner(dir)
	if !ok || me == 0 || uid == me {
		return nil
	}
	who := "uid " + strconv.Itoa(uid)
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		who = u.Username + " (" + who + ")"
	}
	return fmt.Errorf("%s is mounted by %s: %w; only they or root can unmount it", dir, who, ErrNotOwner)
}
