/*
 * Board support: SysTick millisecond clock, CMSDK APB UART drivers, idle, semihosting exit and host
 * files, stack high-water mark and the few newlib system calls the C library may reach.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include "board.h"

/* ---- Cortex-M3 system registers --------------------------------------------------------- */
#define SYST_CSR (*(volatile uint32_t *) 0xE000E010)
#define SYST_RVR (*(volatile uint32_t *) 0xE000E014)
#define SYST_CVR (*(volatile uint32_t *) 0xE000E018)
#define NVIC_ISER0 (*(volatile uint32_t *) 0xE000E100)

static inline uint32_t irq_save(void) {
  uint32_t primask;
  __asm__ volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
  return primask;
}

static inline void irq_restore(uint32_t primask) {
  __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

/* ---- CMSDK APB UART ----------------------------------------------------------------------- */
typedef struct {
  volatile uint32_t DATA;
  volatile uint32_t STATE;     /* bit 0 TX full, bit 1 RX full, bits 2/3 overruns */
  volatile uint32_t CTRL;      /* bit 0 TX en, 1 RX en, 2 TX int en, 3 RX int en */
  volatile uint32_t INTSTATUS; /* write 1 to clear: bit 0 TX, bit 1 RX */
  volatile uint32_t BAUDDIV;
} cmsdk_uart_t;

#define UART0 ((cmsdk_uart_t *) 0x40004000)
#define UART1 ((cmsdk_uart_t *) 0x40005000)
#define STATE_TXFULL 1u
#define STATE_RXFULL 2u
#define CTRL_TXEN 1u
#define CTRL_RXEN 2u
#define CTRL_TXINTEN 4u
#define CTRL_RXINTEN 8u
#define INT_TX 1u
#define INT_RX 2u
#define IRQ_UART1_RX 2
#define IRQ_UART1_TX 3
#define BAUD 115200u

/* ---- clock -------------------------------------------------------------------------------- */
static volatile uint64_t ticks;

void SysTick_Handler(void) {
  ticks++;
}

uint64_t board_ms(void) {
  uint32_t s = irq_save();
  uint64_t t = ticks;
  irq_restore(s);
  return t;
}

/* ---- console -------------------------------------------------------------------------------- */
void console_putc(char c) {
  while (UART0->STATE & STATE_TXFULL) {
  }
  UART0->DATA = (uint8_t) c;
}

void console_write(const char *s, size_t n) {
  while (n--) console_putc(*s++);
}

void console_puts(const char *s) {
  while (*s) console_putc(*s++);
}

void console_putu(uint32_t v) {
  char b[10];
  int i = 0;
  do b[i++] = (char) ('0' + v % 10); while ((v /= 10) != 0);
  while (i) console_putc(b[--i]);
}

/* ---- link: rings filled and drained by the UART1 interrupts --------------------------------- */
#define RX_SIZE 2048u /* powers of two: indexes run freely and wrap */
#define TX_SIZE 2048u

static uint8_t rx_ring[RX_SIZE], tx_ring[TX_SIZE];
static volatile uint32_t rx_head, rx_tail, tx_head, tx_tail;

/* ring contents are plain memory: keep the compiler from moving them across index updates */
#define barrier() __asm__ volatile("" ::: "memory")

/* Moves received bytes into the ring. The UART holds one byte: when the ring is full the byte
 * stays there, RXFULL stays set and QEMU stops feeding the socket (no byte is lost); the
 * receive interrupt is switched off until the main loop has made room. */
static void rx_drain(void) {
  while (UART1->STATE & STATE_RXFULL) {
    uint32_t h = rx_head;
    if (h - rx_tail == RX_SIZE) {
      UART1->CTRL &= ~CTRL_RXINTEN;
      return;
    }
    rx_ring[h % RX_SIZE] = (uint8_t) UART1->DATA;
    barrier();
    rx_head = h + 1;
  }
}

void UART1_RX_Handler(void) {
  UART1->INTSTATUS = INT_RX;
  rx_drain();
}

/* the next byte out, if the UART can take it; called with interrupts masked or from the ISR */
static void tx_kick(void) {
  uint32_t t = tx_tail;
  if (t != tx_head && !(UART1->STATE & STATE_TXFULL)) {
    barrier();
    UART1->DATA = tx_ring[t % TX_SIZE];
    tx_tail = t + 1;
  }
}

void UART1_TX_Handler(void) {
  UART1->INTSTATUS = INT_TX;
  tx_kick();
}

size_t link_rx_available(void) {
  return rx_head - rx_tail;
}

size_t link_read(uint8_t *dst, size_t max) {
  uint32_t t = rx_tail, h = rx_head;
  size_t n = 0;
  barrier();
  while (n < max && t != h) dst[n++] = rx_ring[t++ % RX_SIZE];
  barrier();
  rx_tail = t;
  return n;
}

void link_rx_poll(void) {
  uint32_t s = irq_save();
  rx_drain();
  if (rx_head - rx_tail < RX_SIZE) UART1->CTRL |= CTRL_RXINTEN;
  irq_restore(s);
}

size_t link_tx_capacity(void) {
  return TX_SIZE;
}

size_t link_tx_free(void) {
  return TX_SIZE - (tx_head - tx_tail);
}

size_t link_write(const uint8_t *src, size_t n) {
  size_t i;
  uint32_t s;
  if (n > link_tx_free()) return 0;
  for (i = 0; i < n; i++) tx_ring[(tx_head + i) % TX_SIZE] = src[i];
  s = irq_save();
  tx_head += n;
  tx_kick();
  irq_restore(s);
  return n;
}

/* ---- init, idle --------------------------------------------------------------------------- */
void board_init(void) {
  UART0->BAUDDIV = SYSCLK_HZ / BAUD;
  UART0->CTRL = CTRL_TXEN;
  UART1->BAUDDIV = SYSCLK_HZ / BAUD;
  UART1->CTRL = CTRL_TXEN | CTRL_RXEN | CTRL_TXINTEN | CTRL_RXINTEN;
  NVIC_ISER0 = (1u << IRQ_UART1_RX) | (1u << IRQ_UART1_TX);
  /* 1 ms from the 25 MHz processor clock */
  SYST_RVR = SYSCLK_HZ / 1000u - 1u;
  SYST_CVR = 0;
  SYST_CSR = 7; /* CLKSOURCE = processor clock, TICKINT, ENABLE */
  __asm__ volatile("cpsie i" ::: "memory");
}

/* WFI with interrupts masked still wakes on a pending interrupt, so nothing that arrives
 * between the check and the sleep is missed; the handler runs after the cpsie. */
void board_idle(int (*pending)(void)) {
  __asm__ volatile("cpsid i" ::: "memory");
  if (!pending()) __asm__ volatile("wfi" ::: "memory");
  __asm__ volatile("cpsie i" ::: "memory");
}

/* ---- stack high-water mark ------------------------------------------------------------------- */
extern uint32_t __stack_bottom, __stack_top;
#define STACK_PAINT 0xA5A5A5A5u

void stack_paint(void) {
  uint32_t *p = &__stack_bottom, *sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  sp -= 64; /* keep clear of the live frames */
  while (p < sp) *p++ = STACK_PAINT;
}

size_t stack_peak(void) {
  uint32_t *p = &__stack_bottom;
  while (p < &__stack_top && *p == STACK_PAINT) p++;
  return (size_t) ((uint8_t *) &__stack_top - (uint8_t *) p);
}

size_t stack_size(void) {
  return (size_t) ((uint8_t *) &__stack_top - (uint8_t *) &__stack_bottom);
}

/* ---- semihosting exit --------------------------------------------------------------------------- */
#define SYS_EXIT 0x18
#define SYS_EXIT_EXTENDED 0x20
#define ADP_Stopped_ApplicationExit 0x20026

static uint32_t semihost(uint32_t op, const void *arg) {
  register uint32_t r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void board_exit(int code) {
  uint32_t block[2] = {ADP_Stopped_ApplicationExit, (uint32_t) code};
  while (UART0->STATE & STATE_TXFULL) {
  }
  /* the exit status travels in SYS_EXIT_EXTENDED's parameter block; plain SYS_EXIT (0 or 1) as
   * a fallback for a host without the extension */
  semihost(SYS_EXIT_EXTENDED, block);
  semihost(SYS_EXIT, (const void *) (uintptr_t) (code ? 0x20023 /* ADP_Stopped_RunTimeErrorUnknown */ : ADP_Stopped_ApplicationExit));
  for (;;) __asm__ volatile("wfi");
}

/* ---- host files through semihosting (the board's "flash" for the store) ---------------------------
 * Each call opens the file, works at a position, and closes it: what it wrote is in the host's file when
 * it returns, so killing QEMU (a power cut) keeps it. */
#define SYS_OPEN 0x01
#define SYS_CLOSE 0x02
#define SYS_WRITE 0x05
#define SYS_READ 0x06
#define SYS_SEEK 0x0A
#define SYS_RENAME 0x0F
#define OPEN_RB 1         /* fopen modes by number */
#define OPEN_RPLUS_B 3
#define OPEN_WPLUS_B 7

static int file_open(const char *path, uint32_t mode) {
  uint32_t block[3] = {(uint32_t) (uintptr_t) path, mode, (uint32_t) strlen(path)};
  return (int) semihost(SYS_OPEN, block);
}

static void file_close(int fd) {
  uint32_t block[1] = {(uint32_t) fd};
  semihost(SYS_CLOSE, block);
}

static int file_seek(int fd, uint32_t pos) {
  uint32_t block[2] = {(uint32_t) fd, pos};
  return (int) semihost(SYS_SEEK, block);
}

int board_file_read(const char *path, uint32_t pos, uint8_t *dst, uint32_t len) {
  uint32_t block[3];
  int fd = file_open(path, OPEN_RB), left;
  if (fd < 0) return 0; /* no file: nothing in it */
  if (file_seek(fd, pos) != 0) {
    file_close(fd);
    return 0;
  }
  block[0] = (uint32_t) fd;
  block[1] = (uint32_t) (uintptr_t) dst;
  block[2] = len;
  left = (int) semihost(SYS_READ, block); /* bytes NOT read */
  file_close(fd);
  return left < 0 || (uint32_t) left > len ? -1 : (int) (len - (uint32_t) left);
}

int board_file_write(const char *path, uint32_t pos, const uint8_t *src, uint32_t len, int create) {
  uint32_t block[3];
  int fd = create ? -1 : file_open(path, OPEN_RPLUS_B), left;
  if (fd < 0) fd = file_open(path, OPEN_WPLUS_B); /* created (emptied when `create`) */
  if (fd < 0) return -1;
  if (file_seek(fd, pos) != 0) {
    file_close(fd);
    return -1;
  }
  block[0] = (uint32_t) fd;
  block[1] = (uint32_t) (uintptr_t) src;
  block[2] = len;
  left = len ? (int) semihost(SYS_WRITE, block) : 0; /* bytes NOT written */
  file_close(fd);
  return left ? -1 : (int) len;
}

int board_file_rename(const char *from, const char *to) {
  uint32_t block[4] = {(uint32_t) (uintptr_t) from, (uint32_t) strlen(from), (uint32_t) (uintptr_t) to, (uint32_t) strlen(to)};
  return semihost(SYS_RENAME, block) ? -1 : 0;
}

/* ---- newlib system calls: console output, no files, no sbrk (the JS heap is the pool) ---- */
int _write(int fd, const char *buf, int n);
int _read(int fd, char *buf, int n);
int _close(int fd);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _lseek(int fd, int off, int whence);
void *_sbrk(ptrdiff_t incr);
void _exit(int code);
int _kill(int pid, int sig);
int _getpid(void);

int _write(int fd, const char *buf, int n) {
  (void) fd;
  console_write(buf, (size_t) n);
  return n;
}

int _read(int fd, char *buf, int n) {
  (void) fd;
  (void) buf;
  (void) n;
  return 0;
}

int _close(int fd) {
  (void) fd;
  return -1;
}

int _fstat(int fd, struct stat *st) {
  (void) fd;
  memset(st, 0, sizeof *st);
  st->st_mode = S_IFCHR;
  return 0;
}

int _isatty(int fd) {
  (void) fd;
  return 1;
}

int _lseek(int fd, int off, int whence) {
  (void) fd;
  (void) off;
  (void) whence;
  return 0;
}

void *_sbrk(ptrdiff_t incr) {
  (void) incr;
  errno = ENOMEM;
  return (void *) -1;
}

void _exit(int code) {
  board_exit(code);
}

int _kill(int pid, int sig) {
  (void) pid;
  (void) sig;
  errno = EINVAL;
  return -1;
}

int _getpid(void) {
  return 1;
}
