/*
 * report: the `sockshim report` command (see sockshim(1), REPORT).
 */
#ifndef SOCKSHIM_REPORT_H
#define SOCKSHIM_REPORT_H

/* sockshim report [--json] LOG...: argv holds what follows "report".
 * 0 (damaged lines included), 64 on bad usage, 66 when a log cannot be
 * read (the others are still reported). */
int report_main(int argc, char **argv);

#endif
