/*
 * Start-up code: the vector table, the reset handler (copy .data, zero .bss, call main) and
 * the fault handler. No vendor CMSIS, no newlib crt0.
 */
#include <stdint.h>
#include <string.h>
#include "board.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
extern int main(void);

void Reset_Handler(void) __attribute__((noreturn));
void Fault_Handler(void);
void Default_Handler(void);

typedef void (*vector_t)(void);

#define NUM_IRQ 32

__attribute__((section(".vectors"), used)) const vector_t vectors[16 + NUM_IRQ] = {
  [0] = (vector_t) (uintptr_t) &__stack_top,
  [1] = Reset_Handler,
  [2] = Default_Handler, /* NMI */
  [3] = Fault_Handler,   /* HardFault */
  [4] = Fault_Handler,   /* MemManage */
  [5] = Fault_Handler,   /* BusFault */
  [6] = Fault_Handler,   /* UsageFault */
  [11] = Default_Handler, /* SVCall */
  [12] = Default_Handler, /* DebugMonitor */
  [14] = Default_Handler, /* PendSV */
  [15] = SysTick_Handler,
  [16 + 0] = Default_Handler, /* UART0 RX: the console is output only */
  [16 + 1] = Default_Handler, /* UART0 TX */
  [16 + 2] = UART1_RX_Handler,
  [16 + 3] = UART1_TX_Handler,
  [16 + 4 ... 16 + NUM_IRQ - 1] = Default_Handler,
};

void Reset_Handler(void) {
  uint32_t *src = &__data_load, *dst = &__data_start;
  while (dst < &__data_end) *dst++ = *src++;
  memset(&__bss_start, 0, (size_t) ((uint8_t *) &__bss_end - (uint8_t *) &__bss_start));
  board_exit(main());
}

static void put_hex(uint32_t v) {
  static const char digits[] = "0123456789abcdef";
  char s[10];
  int i;
  s[0] = '0';
  s[1] = 'x';
  for (i = 0; i < 8; i++) s[2 + i] = digits[(v >> (28 - 4 * i)) & 15];
  console_write(s, 10);
}

/* Prints where the CPU faulted (stacked PC, CFSR, HFSR, BFAR) and ends the run: a fault must
 * never look like a hang to the test. */
__attribute__((used)) static void fault_report(uint32_t *frame) {
  console_puts("\n[fw] FAULT pc=");
  put_hex(frame[6]);
  console_puts(" lr=");
  put_hex(frame[5]);
  console_puts(" cfsr=");
  put_hex(*(volatile uint32_t *) 0xE000ED28);
  console_puts(" hfsr=");
  put_hex(*(volatile uint32_t *) 0xE000ED2C);
  console_puts(" bfar=");
  put_hex(*(volatile uint32_t *) 0xE000ED38);
  console_puts("\n");
  board_exit(EXIT_FAULT);
}

__attribute__((naked)) void Fault_Handler(void) {
  __asm__ volatile(
    "tst lr, #4\n"
    "ite eq\n"
    "mrseq r0, msp\n"
    "mrsne r0, psp\n"
    "b fault_report\n");
}

void Default_Handler(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  console_puts("\n[fw] unexpected exception ");
  put_hex(ipsr);
  console_puts("\n");
  board_exit(EXIT_FAULT);
}
