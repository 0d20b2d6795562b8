// Package schedule answers "is the store open at this instant?" for weekly
// opening hours with holidays, in the store's own time zone.
//
// Ranges are wall-clock times ("09:00-18:00") because that is how opening
// hours are written on the door: on a daylight-saving change day a
// 09:00-18:00 range still opens at 09:00 local time and is an hour shorter
// or longer in real time. A range whose end is not after its start runs past
// midnight ("22:00-06:00"): its tail belongs to the range of the day it
// started, so a Friday night shift ends on Saturday morning even if
// Saturday has no ranges of its own.
//
// A holiday closes the whole local day, including the tail of a range that
// started the evening before, and a range that would start on a holiday does
// not start, so its tail into the next day does not count either.
package schedule
