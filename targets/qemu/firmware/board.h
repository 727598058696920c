/*
 * The board: ARM MPS2 with the AN385 FPGA image (Cortex-M3, 25 MHz), as QEMU models it.
 *
 *   0x00000000  4 MB ZBT SSRAM1, used as flash: vectors, code, constants, the JS bundle
 *   0x20000000  ZBT SSRAM2/3, of which the linker script uses 256 KB as the MCU's RAM
 *   0x40004000  CMSDK APB UART0: console (QEMU: first -serial)       RX IRQ 0, TX IRQ 1
 *   0x40005000  CMSDK APB UART1: network link (QEMU: second -serial) RX IRQ 2, TX IRQ 3
 *
 * IRQ numbers from QEMU's hw/arm/mps2.c (uartirq[] = {0, 2, 4, 18, 20}, TX = RX + 1).
 */
#ifndef TINYHUB_BOARD_H
#define TINYHUB_BOARD_H

#include <stddef.h>
#include <stdint.h>

#define SYSCLK_HZ 25000000u

/* exit statuses, reported to QEMU through semihosting */
#define EXIT_OK 0
#define EXIT_SCENARIO 1   /* the JS application reported a failure */
#define EXIT_JS_ERROR 2   /* an uncaught JS error */
#define EXIT_NO_CONFIG 3  /* no configuration line on the link */
#define EXIT_NO_MEMORY 32 /* E_NO_MEMORY (-32): the JS heap pool is exhausted */
#define EXIT_FATAL 70     /* Duktape fatal error */
#define EXIT_FAULT 99     /* CPU fault */

void board_init(void);

/* milliseconds since reset, from SysTick */
uint64_t board_ms(void);

/* console (UART0), blocking */
void console_putc(char c);
void console_write(const char *s, size_t n);
void console_puts(const char *s);
void console_putu(uint32_t v);

/* network link (UART1): interrupt-driven receive and transmit rings */
size_t link_rx_available(void);
size_t link_read(uint8_t *dst, size_t max);
/* all or nothing: returns n if the bytes fit in the transmit ring, 0 if not (try later) */
size_t link_write(const uint8_t *src, size_t n);
size_t link_tx_free(void);
size_t link_tx_capacity(void);
/* moves bytes the UART holds into the receive ring (after the ring was full) */
void link_rx_poll(void);

/* sleeps until an interrupt unless `pending` says there is work; interrupts masked meanwhile */
void board_idle(int (*pending)(void));

/* stack use: paints the unused stack at start-up, measures the high-water mark later */
void stack_paint(void);
size_t stack_peak(void);
size_t stack_size(void);

/* interrupt handlers (startup.c's vector table) */
void SysTick_Handler(void);
void UART1_RX_Handler(void);
void UART1_TX_Handler(void);

/* host files through semihosting, opened and closed by each call: bytes read at `pos` (0 when the
 * file is missing), bytes written at `pos` (the file created when missing, emptied first when `create`),
 * or -1; rename replaces `to` (the host's rename(2): atomic) */
int board_file_read(const char *path, uint32_t pos, uint8_t *dst, uint32_t len);
int board_file_write(const char *path, uint32_t pos, const uint8_t *src, uint32_t len, int create);
int board_file_rename(const char *from, const char *to);

/* ends the emulation with `code` (semihosting SYS_EXIT_EXTENDED) */
void board_exit(int code) __attribute__((noreturn));

#endif
