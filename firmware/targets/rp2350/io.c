/*
 * io.c: the token's button (GP15 to ground, internal pull-up), LED (GP25 on the Pico 2),
 * the RP2350 TRNG (datasheet 12.12: ring-oscillator entropy, 192 bits per collection,
 * hardware health tests) and the chip's 64-bit id from OTP. Linked by the rp2350 image;
 * pin levels and TRNG output are raw hardware input, conditioned by hal.c.
 */
#include "board.h"
#include "rp2350.h"

#define TRNG_SAMPLE_CLOCKS 1000u /* clk_sys cycles between ring-oscillator samples */
#define TRNG_TIMEOUT_US	   100000u

static void pin_sio(uint32_t pin, uint32_t pad)
{
	RP_REG(PADS_GPIO(pin)) = pad; /* also clears ISO, set at reset on the RP2350 */
	RP_REG(IO_GPIO_CTRL(pin)) = GPIO_FUNC_SIO;
}

void rp_gpio_init(void)
{
	pin_sio(RP_PIN_LED, PAD_IE | (1u << 4) /* 4 mA drive */);
	RP_REG(SIO_GPIO_OUT_CLR) = 1u << RP_PIN_LED;
	RP_REG(SIO_GPIO_OE_SET) = 1u << RP_PIN_LED;
	pin_sio(RP_PIN_BUTTON, PAD_IE | PAD_PUE | PAD_SCHMITT);
	RP_REG(SIO_GPIO_OE_CLR) = 1u << RP_PIN_BUTTON;
}

int rp_button_down(void)
{
	return !(RP_REG(SIO_GPIO_IN) & (1u << RP_PIN_BUTTON)); /* pressed pulls to ground */
}

void rp_led_set(int on)
{
	if (on)
		RP_REG(SIO_GPIO_OUT_SET) = 1u << RP_PIN_LED;
	else
		RP_REG(SIO_GPIO_OUT_CLR) = 1u << RP_PIN_LED;
}

static int trng_started;

static void trng_start(void)
{
	RP_SET(RESETS_RESET) = RESET_TRNG;
	RP_CLR(RESETS_RESET) = RESET_TRNG;
	while (!(RP_REG(RESETS_RESET_DONE) & RESET_TRNG))
		;
	RP_REG(TRNG_RNG_IMR) = 0xf; /* polled, no interrupts */
	RP_REG(TRNG_CONFIG) = 0;
	RP_REG(TRNG_SAMPLE_CNT1) = TRNG_SAMPLE_CLOCKS;
	RP_REG(TRNG_RND_SOURCE_ENABLE) = 1;
	trng_started = 1;
}

int rp_trng_read(uint32_t out[6])
{
	uint64_t t0;

	if (!trng_started)
		trng_start();
	for (int attempt = 0; attempt < 4; attempt++) {
		t0 = rp_time_us();
		while (!(RP_REG(TRNG_VALID) & 1u)) {
			if (RP_REG(TRNG_RNG_ISR) & TRNG_ISR_AUTOCORR_ERR)
				return -1; /* stuck source: only a reset clears it; fail closed */
			if (rp_time_us() - t0 > TRNG_TIMEOUT_US)
				return -1;
		}
		uint32_t isr = RP_REG(TRNG_RNG_ISR);
		for (int i = 0; i < 6; i++)
			out[i] = RP_REG(TRNG_EHR_DATA(i)); /* reading EHR restarts collection */
		RP_REG(TRNG_RNG_ICR) = 0xd;		   /* EHR_VALID, CRNGT, VN (not AUTOCORR) */
		if (!(isr & TRNG_ISR_ERRORS))
			return 0;
		/* a health test failed on this block: discard it and collect again */
	}
	return -1;
}

void rp_unique_id(uint8_t id[8])
{
	/* CHIPID0..3: four ECC-protected 16-bit OTP rows, least significant first. */
	const volatile uint16_t *otp = (const volatile uint16_t *)OTP_DATA_BASE;

	for (int i = 0; i < 4; i++) {
		uint16_t v = otp[OTP_ROW_CHIPID0 + (uint32_t)i];
		id[7 - 2 * i] = (uint8_t)v;
		id[6 - 2 * i] = (uint8_t)(v >> 8);
	}
}
