package mount

import "testing"

func TestSuperUserID(t *testing.T) {
	for line, want := range map[string]int{
		`36 35 0:52 / /mnt/m rw,nosuid,nodev,relatime shared:1 - fuse.ggufs ggufs rw,user_id=1000,group_id=1000`: 1000,
		`36 35 0:52 / /mnt/m rw - fuse.ggufs ggufs rw,group_id=0,user_id=0,allow_other`:                          0,
	} {
		if got, ok := superUserID(line); !ok || got != want {
			t.Errorf("%s: %d %v, want %d", line, got, ok, want)
		}
	}
	for _, line := range []string{`36 35 0:52 / /mnt/m rw - ext4 /dev/sda1 rw`, `36 35 0:52 / /mnt/m rw - fuse.x x rw,user_id=-1`, `garbage`} {
		if got, ok := superUserID(line); ok {
			t.Errorf("%s: user %d", line, got)
		}
	}
}
