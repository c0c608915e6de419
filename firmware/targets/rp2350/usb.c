/*
 * usb.c: a small device driver for the RP2350 USB controller (datasheet 12.7): full
 * speed, EP0 control (enumeration, standard and HID class requests), EP1 interrupt IN and
 * OUT with 64-byte CTAPHID reports; bus reset, suspend and resume. The interrupt handler
 * only records events and the setup packet; rp_usb_task(), called from the main loop,
 * does all protocol work. Linked by the rp2350 image. Setup packets and OUT reports come
 * from the USB host and are untrusted: lengths and indexes are bounded here, report
 * contents are the core's to judge. The hardware is reached through struct rp_usb_hw
 * (board.h), so the host unit tests run this driver against a register file in memory.
 */
#include <string.h>

#include "board.h"
#include "rp2350.h"

#define EP1_IN_BUF  0x180u /* DPRAM offsets */
#define EP1_OUT_BUF 0x1c0u
#define RX_SLOTS    4u

/* Register and DPRAM words through the hardware seam (addresses from rp2350.h). */
#define REG(a)	 (hw->regs[((a)-USB_REGS) / 4u])
#define DP32(a)	 (*(volatile uint32_t *)(volatile void *)(hw->dpram + ((a)-USB_DPRAM)))
#define DPBUF(o) (hw->dpram + (o))

static const struct rp_usb_hw *hw;

/* Recorded by the interrupt handler, taken by rp_usb_task() with interrupts off. */
static volatile uint32_t ev_sie, ev_buff;
static volatile uint8_t ev_setup[8];

static const char *dev_serial;
static uint8_t pending_addr, configured, suspended;
static uint8_t ep0_in_pid, ep0_data_in, tx_busy, in_pid, out_pid, out_armed;
static uint8_t rx_ring[RX_SLOTS][RP_REPORT_LEN];
static uint32_t rx_head, rx_tail;

static void copy_in(uint32_t off, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		DPBUF(off)[i] = src[i];
}

static void copy_out(uint8_t *dst, uint32_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = DPBUF(off)[i];
}

static void buf_ctrl(uint32_t reg, uint32_t val)
{
	/* Datasheet 12.7.3.5.1: write the buffer control word without AVAILABLE, wait for
	 * clk_usb to see it (clk_sys is ~3x faster), then set AVAILABLE. */
	DP32(reg) = val & ~USB_BUF_AVAILABLE;
	if (val & USB_BUF_AVAILABLE) {
		hw->avail_delay();
		DP32(reg) = val;
	}
}

void rp_usb_irq(void)
{
	uint32_t ints = REG(USB_INTS), sie = 0;

	if (ints & USB_INT_BUFF_STATUS) {
		uint32_t b = REG(USB_BUFF_STATUS);
		ev_buff |= b;
		REG(USB_BUFF_STATUS) = b; /* write 1 to clear */
	}
	if (ints & USB_INT_SETUP_REQ) {
		for (int i = 0; i < 8; i++)
			ev_setup[i] = DPBUF(0)[i];
		sie |= USB_SIE_STATUS_SETUP_REC;
	}
	if (ints & USB_INT_BUS_RESET)
		sie |= USB_SIE_STATUS_BUS_RESET;
	if (ints & USB_INT_DEV_SUSPEND)
		sie |= USB_SIE_STATUS_SUSPENDED;
	if (ints & USB_INT_DEV_RESUME)
		sie |= USB_SIE_STATUS_RESUME;
	if (sie) {
		ev_sie |= sie;
		REG(USB_SIE_STATUS) = sie; /* write 1 to clear */
	}
}

void rp_usb_init(const struct rp_usb_hw *h, const char serial[17])
{
	hw = h;
	dev_serial = serial;
	configured = suspended = pending_addr = 0;
	ev_sie = ev_buff = 0;
	hw->reset();
	for (uint32_t i = 0; i < 0x200; i++)
		DPBUF(0)[i] = 0;

	REG(USB_MUXING) = USB_MUXING_TO_PHY | USB_MUXING_SOFTCON;
	/* Bus powered: no VBUS sense pin, so force "VBUS present". */
	REG(USB_PWR) = USB_PWR_VBUS_DETECT | USB_PWR_VBUS_DETECT_OVERRIDE;
	/* Device mode, controller on, and PHY isolation removed (RP2350 12.7.2). */
	REG(USB_MAIN_CTRL) = USB_MAIN_CTRL_CONTROLLER_EN;
	REG(USB_SIE_CTRL) = USB_SIE_CTRL_EP0_INT_1BUF; /* also clears PULLDOWN_EN */
	REG(USB_INTE) = USB_INT_BUFF_STATUS | USB_INT_BUS_RESET | USB_INT_SETUP_REQ |
			USB_INT_DEV_SUSPEND | USB_INT_DEV_RESUME;
	hw->irq_enable();
	/* connect: the pull-up on D+ announces a full-speed device */
	REG(USB_SIE_CTRL) = USB_SIE_CTRL_EP0_INT_1BUF | USB_SIE_CTRL_PULLUP_EN;
}

static void ep0_send(const uint8_t *data, size_t len)
{
	if (len > 64)
		len = 64; /* every descriptor here fits one packet */
	copy_in(USB_EP0_BUF - USB_DPRAM, data, len);
	buf_ctrl(USB_EP_IN_BUF_CTRL(0), (uint32_t)len | USB_BUF_FULL |
					    (ep0_in_pid ? USB_BUF_DATA1 : 0) | USB_BUF_AVAILABLE);
	ep0_in_pid ^= 1;
}

static void ep0_data(const uint8_t *data, size_t len)
{
	ep0_data_in = 1; /* the host answers with a zero-length OUT status packet */
	ep0_send(data, len);
}

static void ep0_status_in(void)
{
	ep0_data_in = 0;
	ep0_send(NULL, 0);
}

static void ep0_stall(void)
{
	REG(USB_EP_STALL_ARM) = 3; /* EP0 IN and OUT */
	buf_ctrl(USB_EP_IN_BUF_CTRL(0), USB_BUF_STALL);
	buf_ctrl(USB_EP_OUT_BUF_CTRL(0), USB_BUF_STALL);
}

static void arm_out(void)
{
	if (out_armed || rx_head - rx_tail >= RX_SLOTS)
		return; /* ring full: the host is NAKed until the core takes a report */
	buf_ctrl(USB_EP_OUT_BUF_CTRL(1),
		 RP_REPORT_LEN | (out_pid ? USB_BUF_DATA1 : 0) | USB_BUF_AVAILABLE);
	out_armed = 1;
}

static void configure_endpoints(void)
{
	DP32(USB_EP_IN_CTRL(1)) =
	    USB_EP_CTRL_ENABLE | USB_EP_CTRL_INT_1BUF | USB_EP_CTRL_TYPE_INTERRUPT | EP1_IN_BUF;
	DP32(USB_EP_OUT_CTRL(1)) =
	    USB_EP_CTRL_ENABLE | USB_EP_CTRL_INT_1BUF | USB_EP_CTRL_TYPE_INTERRUPT | EP1_OUT_BUF;
	in_pid = out_pid = 0;
	tx_busy = out_armed = 0;
	rx_head = rx_tail = 0;
	arm_out();
}

static void bus_reset(void)
{
	REG(USB_ADDR_ENDP) = 0;
	pending_addr = 0;
	configured = 0;
	suspended = 0;
	tx_busy = out_armed = 0;
	DP32(USB_EP_IN_CTRL(1)) = 0;
	DP32(USB_EP_OUT_CTRL(1)) = 0;
}

static void handle_setup(const uint8_t s[8])
{
	uint8_t type = s[0], req = s[1], scratch[64];
	uint16_t value = (uint16_t)(s[2] | s[3] << 8), index = (uint16_t)(s[4] | s[5] << 8);
	uint16_t length = (uint16_t)(s[6] | s[7] << 8);
	const uint8_t *d;
	size_t n;

	ep0_in_pid = 1; /* the first data or status packet after SETUP is DATA1 */
	switch (type << 8 | req) {
	case 0x8006: /* GET_DESCRIPTOR, device */
	case 0x8106: /* GET_DESCRIPTOR, interface (HID report / HID class descriptor) */
		if ((type == 0x81) != ((value >> 8) == 0x21 || (value >> 8) == 0x22))
			break;
		n = rp_usb_descriptor(value, index, &d, scratch, sizeof scratch, dev_serial);
		if (n == 0)
			break;
		ep0_data(d, n < length ? n : length);
		return;
	case 0x0005: /* SET_ADDRESS: applied after the status stage */
		pending_addr = (uint8_t)(value & 0x7f);
		ep0_status_in();
		return;
	case 0x0009: /* SET_CONFIGURATION */
		if (value > 1)
			break;
		configured = (uint8_t)value;
		if (configured)
			configure_endpoints();
		ep0_status_in();
		return;
	case 0x8008: /* GET_CONFIGURATION */
		scratch[0] = configured;
		ep0_data(scratch, length ? 1 : 0);
		return;
	case 0x8000: /* GET_STATUS device, interface, endpoint: bus powered, not halted */
	case 0x8100:
	case 0x8200:
		scratch[0] = scratch[1] = 0;
		ep0_data(scratch, length < 2 ? length : 2);
		return;
	case 0x0201: /* CLEAR_FEATURE(ENDPOINT_HALT): restart the data toggle */
		if ((index & 0x7f) == 1) {
			if (index & 0x80)
				in_pid = 0;
			else
				out_pid = 0;
		}
		ep0_status_in();
		return;
	case 0x010b: /* SET_INTERFACE alt 0 */
		if (value != 0)
			break;
		ep0_status_in();
		return;
	case 0x810a: /* GET_INTERFACE */
		scratch[0] = 0;
		ep0_data(scratch, length ? 1 : 0);
		return;
	case 0x210a: /* HID SET_IDLE: reports are only sent when there is data anyway */
		ep0_status_in();
		return;
	default:
		break;
	}
	ep0_stall();
}

void rp_usb_task(void)
{
	uint32_t sie, buff;
	uint8_t setup[8];

	hw->lock();
	sie = ev_sie;
	buff = ev_buff;
	ev_sie = ev_buff = 0;
	for (int i = 0; i < 8; i++)
		setup[i] = ev_setup[i];
	hw->unlock();

	if (sie & USB_SIE_STATUS_BUS_RESET)
		bus_reset();
	if (sie & USB_SIE_STATUS_SUSPENDED)
		suspended = 1;
	if (sie & USB_SIE_STATUS_RESUME)
		suspended = 0;
	if (sie & USB_SIE_STATUS_SETUP_REC) {
		suspended = 0;
		handle_setup(setup);
	}
	if (buff & (1u << 0)) { /* EP0 IN done: data stage -> OUT status, or status done */
		if (ep0_data_in) {
			ep0_data_in = 0;
			buf_ctrl(USB_EP_OUT_BUF_CTRL(0), USB_BUF_DATA1 | USB_BUF_AVAILABLE);
		} else if (pending_addr) {
			REG(USB_ADDR_ENDP) = pending_addr;
			pending_addr = 0;
		}
	}
	if (buff & (1u << 2)) { /* EP1 IN report taken by the host */
		tx_busy = 0;
	}
	if (buff & (1u << 3)) { /* EP1 OUT report arrived */
		uint32_t ctrl = DP32(USB_EP_OUT_BUF_CTRL(1));
		out_armed = 0;
		out_pid ^= 1;
		if ((ctrl & USB_BUF_LEN_MASK) == RP_REPORT_LEN && rx_head - rx_tail < RX_SLOTS) {
			copy_out(rx_ring[rx_head % RX_SLOTS], EP1_OUT_BUF, RP_REPORT_LEN);
			rx_head++;
		}
		/* a short report is not CTAPHID: dropped, the core never sees it */
		arm_out();
	}
}

int rp_usb_configured(void)
{
	return configured;
}

int rp_usb_suspended(void)
{
	return suspended;
}

int rp_usb_rx(uint8_t report[RP_REPORT_LEN])
{
	if (rx_head == rx_tail)
		return 0;
	memcpy(report, rx_ring[rx_tail % RX_SLOTS], RP_REPORT_LEN);
	rx_tail++;
	if (configured)
		arm_out();
	return 1;
}

int rp_usb_tx_busy(void)
{
	return tx_busy;
}

int rp_usb_tx(const uint8_t report[RP_REPORT_LEN])
{
	if (!configured || tx_busy)
		return -1;
	copy_in(EP1_IN_BUF, report, RP_REPORT_LEN);
	tx_busy = 1;
	buf_ctrl(USB_EP_IN_BUF_CTRL(1),
		 RP_REPORT_LEN | USB_BUF_FULL | (in_pid ? USB_BUF_DATA1 : 0) | USB_BUF_AVAILABLE);
	in_pid ^= 1;
	return 0;
}
