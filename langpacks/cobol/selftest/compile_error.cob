      *> Must fail to compile: TOTAL is never declared.
       IDENTIFICATION DIVISION.
       PROGRAM-ID. MAIN.

       PROCEDURE DIVISION.
           DISPLAY TOTAL
           STOP RUN.
