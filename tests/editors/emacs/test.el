;;; test.el --- distsys-review in Emacs through eglot, batch mode (tests/editors/emacs.sh)  -*- lexical-binding: t -*-
;; Loads the snippet of docs/editors.md ($DSR_SNIPPET), opens $DSR_FILE (a SQL migration with an OPS001 defect),
;; starts eglot as `M-x eglot' would, and checks what a user sees: the diagnostic in flymake, a hover naming the
;; rule, the code actions. Prints one line per check; exits with the number of failed checks.

(require 'package)
;; Debian's elpa-eglot (and the newer project/xref it needs) live here; -Q leaves the list empty.
(setq package-directory-list (list "/usr/share/emacs/site-lisp/elpa"))
(package-initialize)
(require 'eglot)
(require 'flymake)

(defvar dsr-failed 0)
(defun dsr-check (ok what &optional detail)
  (princ (format "  %s %s%s\n" (if ok "ok  " "FAIL") what (if detail (format ": %s" detail) "")))
  (unless ok (setq dsr-failed (1+ dsr-failed))))

(defun dsr-wait (seconds predicate)
  "Let the server's messages in until PREDICATE holds or SECONDS pass."
  (let ((end (+ (float-time) seconds)) (value nil))
    (while (and (not (setq value (funcall predicate))) (< (float-time) end))
      (accept-process-output nil 0.1))
    value))

(condition-case err
    (progn
      (load (getenv "DSR_SNIPPET") nil t)
      (find-file (getenv "DSR_FILE"))
      (dsr-check (eq major-mode 'sql-mode) "the migration opens in sql-mode" major-mode)
      (apply #'eglot (eglot--guess-contact))
      (let ((server (eglot-current-server)))
        (dsr-check server "eglot connected to distsys-review")
        (let* ((diags (dsr-wait 30 (lambda () (flymake-diagnostics))))
               (texts (mapcar #'flymake-diagnostic-text diags)))
          (dsr-check (seq-some (lambda (text) (string-match-p "OPS001" text)) texts)
                     "flymake shows the OPS001 diagnostic" (car texts))
          (when diags
            (let* ((diag (car diags))
                   (line (line-number-at-pos (flymake-diagnostic-beg diag)))
                   (position (save-excursion
                               (goto-char (flymake-diagnostic-beg diag))
                               (eglot--pos-to-lsp-position)))
                   (hover (jsonrpc-request server :textDocument/hover
                                           (list :textDocument (eglot--TextDocumentIdentifier)
                                                 :position position)))
                   (contents (plist-get hover :contents))
                   (text (if (stringp contents) contents (or (plist-get contents :value) ""))))
              (dsr-check (= line 2) "on the ALTER TABLE line" line)
              (dsr-check (string-match-p "OPS001" text) "hover names the rule" (format "%d chars" (length text)))
              ;; What `M-x eglot-code-actions' asks for on the diagnostic (the interactive call would prompt).
              (let* ((actions (eglot-code-actions (flymake-diagnostic-beg diag) (flymake-diagnostic-end diag)))
                     (titles (mapcar (lambda (a) (plist-get a :title)) actions)))
                (dsr-check (seq-some (lambda (title) (string-match-p "Suppress OPS001" title)) titles)
                           "code actions offer to suppress OPS001" (string-join titles " | "))))))))
  (error (dsr-check nil "test script error" (error-message-string err))))
(princ (format "emacs %s, eglot: %d failed\n" emacs-version dsr-failed))
(kill-emacs dsr-failed)
