package detectors

import (
	"image"
	"image/color"
)

func rectOf(d Detection) image.Rectangle {
	return image.Rect(int(d.Box.X1), int(d.Box.Y1), int(d.Box.X2), int(d.Box.Y2))
}

func colorFor(class int) color.RGBA {
	if class == 0 {
		return color.RGBA{0, 255, 0, 0}
	}
	return color.RGBA{0, 0, 255, 0}
}

func imageRect(x1, y1, x2, y2 int) image.Rectangle { return image.Rect(x1, y1, x2, y2) }
