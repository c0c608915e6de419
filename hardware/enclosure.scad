// enclosure.scad: two-part snap shell for the Portcullis token (Raspberry Pi Pico 2 build):
// a base that holds the Pico 2 (51 x 21 mm), a lid with a hole over the touch button
// (6x6 mm tactile switch glued above GP15), a light window over the LED (GP25), and an
// opening for the micro-USB adapter. Rendered in CI: `openscad -o out.stl enclosure.scad`.
// Units: millimetres. Both parts are laid out side by side, ready to print.

pico_l = 51;       // Pico 2 board length
pico_w = 21;       // Pico 2 board width
pcb_t = 1.0;       // board thickness
wall = 1.6;        // shell wall
gap = 0.3;         // clearance around the board
base_h = 5.0;      // base inner height (board on 2 mm standoffs + parts under it)
lid_h = 9.0;       // lid inner height (switch body + cap)
usb_w = 9.0;       // micro-USB / adapter opening
usb_h = 4.0;
button_d = 5.0;    // hole for the switch plunger
button_x = 30.0;   // plunger centre from the USB end (above GP15, board pin 20)
led_x = 4.8;       // LED (GP25) from the USB end
led_y = 4.4;       // LED from the board's long edge
ring_d = 4.0;      // key-ring hole

in_l = pico_l + 2 * gap;
in_w = pico_w + 2 * gap;
out_l = in_l + 2 * wall;
out_w = in_w + 2 * wall;

module rounded_box(l, w, h, r = 2) {
    hull() for (x = [r, l - r], y = [r, w - r]) translate([x, y, 0]) cylinder(r = r, h = h, $fn = 24);
}

module base() {
    difference() {
        rounded_box(out_l + 8, out_w, base_h + wall);
        translate([wall, wall, wall]) cube([in_l, in_w, base_h + 1]);
        // USB opening at the x = 0 end, centred on the board
        translate([-1, out_w / 2 - usb_w / 2, wall + 2]) cube([wall + 2, usb_w, usb_h]);
        // key-ring hole in the tab past the far end
        translate([out_l + 4, out_w / 2, -1]) cylinder(d = ring_d, h = base_h + wall + 2, $fn = 24);
    }
    // standoffs under the Pico 2 mounting holes (2 mm from the short edges, 4.8 mm from the long ones)
    for (x = [2 + gap + wall, wall + gap + pico_l - 2], y = [wall + gap + 4.8, wall + gap + pico_w - 4.8])
        translate([x, y, wall]) cylinder(d = 3.2, h = 2, $fn = 20);
}

module lid() {
    difference() {
        rounded_box(out_l, out_w, lid_h + wall);
        translate([wall - 0.2, wall - 0.2, wall]) cube([in_l + 0.4, in_w + 0.4, lid_h + 1]);
        translate([wall + gap + button_x, out_w / 2, -1]) cylinder(d = button_d, h = wall + 2, $fn = 32);
        // thin window over the LED: 0.4 mm of plastic left so it glows through
        translate([wall + gap + led_x, wall + gap + led_y, 0.4]) cylinder(d = 3, h = wall, $fn = 20);
        translate([-1, out_w / 2 - usb_w / 2, lid_h + wall - usb_h]) cube([wall + 2, usb_w, usb_h + 1]);
    }
}

base();
translate([0, out_w + 6, 0]) lid();
