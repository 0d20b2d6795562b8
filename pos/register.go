package pos

import (
	"errors"
	"fmt"
	"time"

	"github.com/storesight/storesight/geom"
)

// Register is one cash register as the video sees it: the camera that
// watches it, the customer side of the counter and, optionally, the staff
// side. Zones are polygons in the pixels of that camera's analysed stream;
// a person is in a zone when the bottom-centre of their box is (the rule
// counting uses), so zones should cover the floor where people stand.
type Register struct {
	// ID is the register id as the POS sends it (Transaction.Register).
	ID string
	// Camera is the id of the camera that sees the register.
	Camera string
	// CustomerZone is where a customer stands while being served.
	CustomerZone geom.Polygon
	// StaffZone is where the cashier stands; optional (nil: staff are not
	// counted).
	StaffZone geom.Polygon
	// ClockOffset is added to the POS time to get camera time. When
	// nonzero it overrides CorrelatorConfig.ClockOffset for this register
	// (a register with its own, drifting clock).
	ClockOffset time.Duration
}

// validate checks one register's fields.
func (r Register) validate() error {
	switch {
	case r.ID == "":
		return errors.New("empty id")
	case r.Camera == "":
		return fmt.Errorf("register %q: empty camera", r.ID)
	case len(r.CustomerZone) < 3:
		return fmt.Errorf("register %q: customer zone needs at least 3 points, got %d", r.ID, len(r.CustomerZone))
	case len(r.StaffZone) > 0 && len(r.StaffZone) < 3:
		return fmt.Errorf("register %q: staff zone needs at least 3 points, got %d", r.ID, len(r.StaffZone))
	}
	return nil
}

// validateRegisters checks every register and that ids are unique.
func validateRegisters(regs []Register) error {
	if len(regs) == 0 {
		return errors.New("no registers")
	}
	seen := make(map[string]bool, len(regs))
	for i, r := range regs {
		if err := r.validate(); err != nil {
			return fmt.Errorf("register %d: %w", i, err)
		}
		if seen[r.ID] {
			return fmt.Errorf("register %q listed twice", r.ID)
		}
		seen[r.ID] = true
	}
	return nil
}
