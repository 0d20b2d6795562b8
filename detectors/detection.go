// Package detectors finds objects in frames. A Detector turns one BGR image
// into Detections in that image's pixel coordinates; model families differ
// only in pre- and post-processing.
package detectors

import "github.com/storesight/storesight/geom"

// Detection is one object found in a frame, in original-image pixels.
type Detection struct {
	Box   geom.Box
	Score float32 // confidence in [0,1]
	Class int     // index into the model's class names (COCO: 0 = person)
}
