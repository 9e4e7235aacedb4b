"""JUEL and XPath said again in Python: what translates word for word, and what does not."""
import pytest

from engine.bpmn import foreign, sandbox


@pytest.mark.parametrize("juel,python", [
    ("${amount > 1000}", "amount > 1000"),
    ("${approved}", "approved"),
    ("#{approved}", "approved"),
    ("${!approved}", "not approved"),
    ("${not approved}", "not approved"),
    ("${a == 'x'}", "a == 'x'"),
    ('${a eq "x" && b ne 3}', "a == 'x' and b != 3"),
    ("${a lt 1 or a gt 9 || a le 0 and a ge -0}", None),  # unary minus is arithmetic: not translated
    ("${a lt 1 or a gt 9 || a le 0 and a ge 0}", "a < 1 or a > 9 or (a <= 0 and a >= 0)"),
    ("${!a == b}", "(not a) == b"),  # JUEL's ! binds tighter than ==, Python's not looser
    ("${!(a == b)}", "not a == b"),
    ("${empty list}", "list in (None, '', [], {})"),
    ("${customer.age >= 18}", "customer['age'] >= 18"),
    ("${x == null}", "x == None"),
    ("${ok == true}", "ok == True"),
    ("${'it\\'s' == s}", "\"it's\" == s"),
    ("${007 == x}", "7 == x"),
    # beyond a word-for-word translation
    ("${execution.getVariable('x')}", None),
    ('${customer.prop("age").numberValue() < 21}', None),
    ("${a ? b : c}", None),
    ("${a + 1 > 2}", None),
    ("${a < b < c}", None),
    ("${__class__}", None),
    ("${class}", None),
    ("${task.assignee == 'x'}", None),
    ("amount > 1000", None),
    ("${a} and ${b}", None),
])
def test_juel(juel, python):
    assert foreign.juel(juel) == python
    if python is not None:
        sandbox.check(python)


@pytest.mark.parametrize("xpath,python", [
    ("getDataObject('order')/amount > 100", "order['amount'] > 100"),
    ("bpmn:getDataObject('x')/y = 1", "x['y'] == 1"),
    ("$x = 'a' and not($y)", "x == 'a' and (not y)"),
    ("not($a) = true()", "(not a) == True"),
    ("a/b/c != 2", "a['b']['c'] != 2"),
    ("count(//item) > 2", None),
    ("string-length(x) > 1", None),
    ("/a", None),
    ("a//b", None),
    ("Order OK?", None),
])
def test_xpath(xpath, python):
    assert foreign.xpath(xpath) == python


@pytest.mark.parametrize("collection,variable", [
    ("items", "items"), ("${items}", "items"), ("#{items}", "items"), ("${bean.items()}", None),
    ("${a.b}", None), ("_secret", None), ("", None),
])
def test_collection_variable(collection, variable):
    assert foreign.collection_variable(collection) == variable
