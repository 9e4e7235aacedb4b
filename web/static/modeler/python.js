// Checks of gateway conditions and scripts as the designer types them. The engine evaluates them
// as Python in its sandbox (and checks them again at deploy); here we catch what designers coming
// from other BPM tools type most often: unclosed brackets and strings, JUEL's ${...}, &&, ||, !,
// true/false/null, and = where == was meant.

function scan(text) {
  const stack = [];
  const pairs = { ")": "(", "]": "[", "}": "{" };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "#") { while (i < text.length && text[i] !== "\n") i++; continue; }
    if (c === "'" || c === '"') {
      const triple = text.substr(i, 3) === c.repeat(3);
      const end = triple ? text.indexOf(c.repeat(3), i + 3) : findQuote(text, i + 1, c);
      if (end < 0) return "字符串没有结束引号";
      i = triple ? end + 2 : end;
      continue;
    }
    if ("([{".includes(c)) stack.push(c);
    if (")]}".includes(c) && stack.pop() !== pairs[c]) return "括号不配对：多余的 " + c;
  }
  return stack.length ? "括号不配对：缺少与 " + stack[stack.length - 1] + " 对应的右括号" : null;
}

function findQuote(text, from, quote) {
  for (let i = from; i < text.length; i++) {
    if (text[i] === "\\") { i++; continue; }
    if (text[i] === quote) return i;
    if (text[i] === "\n") return -1;
  }
  return -1;
}

// The text outside strings and comments, where operators are looked for.
function code(text) {
  return text.replace(/#.*$/gm, "").replace(/'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"/g, "''");
}

function common(text) {
  const broken = scan(text);
  if (broken) return broken;
  const bare = code(text);
  if (/\$\{/.test(bare)) return "这里写 Python 表达式，不用 ${...}：如 decision == 'accept'";
  if (/&&|\|\|/.test(bare)) return "请用 and / or 代替 && / ||";
  if (/!(?!=)/.test(bare)) return "请用 not 代替 !";
  if (/===|!==/.test(bare)) return "请用 == / != 比较";
  if (/\b(true|false|null)\b/.test(bare)) return "请用 True / False / None";
  return null;
}

export function checkExpression(text) {
  const problem = common(text);
  if (problem) return problem;
  const bare = code(text);
  if (/(^|[^=!<>])=($|[^=])/.test(bare)) return "条件中应使用 == 比较，而不是赋值 =";
  if (/^\s*(import|from|def|class|return|if|for|while)\b/.test(bare)) return "条件只能是一个表达式";
  return null;
}

export function checkScript(text) {
  const problem = common(text);
  if (problem) return problem;
  if (/^\s*(import|from)\s/m.test(code(text))) return "脚本不能导入模块";
  return null;
}
