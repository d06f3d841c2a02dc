      *> Reads a name and n 64-bit integers, then prints a greeting and
      *> their sum. Fixed reference format: code from column 8.
       IDENTIFICATION DIVISION.
       PROGRAM-ID. MAIN.

       DATA DIVISION.
       WORKING-STORAGE SECTION.
       01 NAME-LINE     PIC X(64).
       01 COUNT-LINE    PIC X(32).
       01 VALUES-LINE   PIC X(4096).
       01 TOKEN         PIC X(32).
       01 TEXT-POS      PIC 9(5) COMP-5 VALUE 1.
       01 N             PIC 9(9) COMP-5.
       01 I             PIC 9(9) COMP-5.
       01 TOTAL         PIC S9(19) VALUE 0.
       01 TOTAL-TEXT    PIC -(20)9.

       PROCEDURE DIVISION.
           ACCEPT NAME-LINE
           ACCEPT COUNT-LINE
           ACCEPT VALUES-LINE
           MOVE FUNCTION NUMVAL(COUNT-LINE) TO N
           PERFORM VARYING I FROM 1 BY 1 UNTIL I > N
               UNSTRING VALUES-LINE DELIMITED BY ALL SPACE
                   INTO TOKEN WITH POINTER TEXT-POS
               END-UNSTRING
               COMPUTE TOTAL = TOTAL + FUNCTION NUMVAL(TOKEN)
           END-PERFORM
           MOVE TOTAL TO TOTAL-TEXT
           DISPLAY "Hello, " FUNCTION TRIM(NAME-LINE) "!"
           DISPLAY FUNCTION TRIM(TOTAL-TEXT)
           STOP RUN.
